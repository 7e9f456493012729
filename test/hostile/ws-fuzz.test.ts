// Hostile WebSocket frames into genesys-ws-in (node-red-node-test-helper, the Genesys simulator):
// generated garbage (malformed JSON, binary, unknown topics, wrong types, deep nesting, giant frames)
// interleaved with valid events. No crash, garbage warned about and never emitted, every valid event
// emitted in order, the socket kept (a frame over the size limit costs one reconnect, nothing more).
// The node has two wires out, so every message is also deep-cloned by Node-RED, as in real flows.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import helper from 'node-red-node-test-helper';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import configInit = require('../../nodes/genesys-config/genesys-config');
import wsInInit = require('../../nodes/genesys-ws-in/genesys-ws-in');
import { waitFor } from '../channels/support';
import { analyticsFrame, notificationFrame, type Frame } from './generators/frames';
import { fuzzSeed, Rng } from './generators/prng';

helper.init(require.resolve('node-red'));

const SEED = fuzzSeed();
const FRAMES = Number(process.env.FUZZ_FRAMES) || 3000;
const QUEUES = ['q-fuzz-a', 'q-fuzz-b'];
const TOPICS = QUEUES.map((q) => `v2.routing.queues.${q}.conversations`);

function tally(frames: Frame[]): string {
  const m = new Map<string, number>();
  for (const f of frames) m.set(f.cls, (m.get(f.cls) ?? 0) + 1);
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ');
}

describe(`hostile input: WebSocket frames into genesys-ws-in (FUZZ_SEED=${SEED})`, function () {
  this.timeout(60_000);
  let sim: GenesysSimulator;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator({ heartbeatMs: 200, rateLimitPerMinute: 0 });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    assert.equal(({} as any).polluted, undefined, 'no prototype pollution');
  });

  const load = (ws: Record<string, unknown>, config: Record<string, unknown> = {}) => helper.load([configInit, wsInInit], [
    { id: 'tab', type: 'tab' },
    { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5, ...config },
    { id: 'ws', type: 'genesys-ws-in', z: 'tab', genesys: 'c1', mode: 'channels', queueIds: QUEUES.join(', '), queueIdsType: 'str', userIds: '', userIdsType: 'str',
      topics: '', maxChannels: 20, idleTimeout: 10, reconnectMax: 0.4, backfill: false, janitor: false, wires: [['out', 'out2']], ...ws },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'out2', type: 'helper', z: 'tab' },
  ], { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });

  const collect = (id: string): any[] => {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => got.push(m));
    return got;
  };
  const warnings = (): string[] => (helper.getNode('ws') as any).warn.args.map((a: any[]) => String(a[0]));

  it(`notification channels: ${FRAMES} generated frames, garbage warned and dropped, valid events emitted in order, one socket throughout`, async () => {
    const st = sim.state.channels as ChannelsState;
    await load({});
    const out = collect('out');
    await waitFor(() => st.list().some((c) => c.socket), 5000, 'a connected channel');
    const id = st.list()[0].id;
    const rng = new Rng(SEED);
    const frames = Array.from({ length: FRAMES }, () => notificationFrame(rng, TOPICS));
    const sentinel = { topicName: TOPICS[0], eventBody: { id: 'sentinel-1', participants: [] } };
    const t0 = Date.now();
    for (const f of frames) assert.ok(st.sendRaw(id, f.data), 'the socket stays open for every frame');
    st.sendRaw(id, JSON.stringify(sentinel));
    await waitFor(() => out.some((m) => m.payload?.id === 'sentinel-1'), 30_000, 'the sentinel after all frames');
    const ms = Date.now() - t0;
    const expected = frames.filter((f) => f.emits).map((f) => JSON.parse(f.data as string).eventBody);
    const got = out.filter((m) => m.genesys.source === 'notification').map((m) => m.payload);
    console.log(`  [hostile] notification channel: seed ${SEED}, ${FRAMES} frames in ${ms} ms, ${expected.length} valid emitted; ${tally(frames)}`);
    assert.equal(got.length, expected.length + 1, 'exactly the valid frames (and the sentinel) became messages');
    assert.deepEqual(got.slice(0, -1).map((p) => JSON.stringify(p)), expected.map((p) => JSON.stringify(p)), 'in order, unchanged');
    assert.equal(st.counts.connections, 1, 'garbage never cost the socket');
    const w = warnings();
    for (const kind of ['invalid JSON', 'binary frame', 'no topicName', 'no eventBody', 'nested deeper']) {
      assert.ok(w.some((x) => x.includes(kind)), `a warning about "${kind}" frames: ${w.join(' | ')}`);
    }
    assert.ok(w.some((x) => /topic this channel did not subscribe/.test(x)), 'unknown topics warned');
    assert.ok(w.length < 20, `warnings are rate limited, saw ${w.length}`);
  });

  it('notification channels: a frame over the 8 MiB limit costs one reconnect; events after it still arrive', async () => {
    const st = sim.state.channels as ChannelsState;
    await load({});
    const out = collect('out');
    await waitFor(() => st.list().some((c) => c.socket), 5000, 'a connected channel');
    const id = st.list()[0].id;
    st.sendRaw(id, JSON.stringify({ topicName: TOPICS[0], eventBody: { id: 'before', participants: [] } }));
    st.sendRaw(id, JSON.stringify({ topicName: TOPICS[0], eventBody: { id: 'giant', pad: 'x'.repeat(9 * 1024 * 1024) } }));
    await waitFor(() => st.counts.connections === 2 && !!st.channels.get(id)?.socket, 10_000, 'reconnected after the giant frame');
    st.sendRaw(id, JSON.stringify({ topicName: TOPICS[1], eventBody: { id: 'after', participants: [] } }));
    await waitFor(() => out.some((m) => m.payload.id === 'after'), 5000, 'the event after the reconnect');
    assert.deepEqual(out.map((m) => m.payload.id), ['before', 'after']);
    assert.ok(warnings().some((w) => /oversize/.test(w)), 'the giant frame is warned about');
  });

  it(`realtime analytics socket: ${FRAMES} generated frames, malformed ones warned and dropped, valid ones emitted in order`, async () => {
    // A guide-004 server on its own port; tokens are the simulator's (genesys-config logs in there).
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    const sockets: WebSocket[] = [];
    server.on('upgrade', (req, socket, head) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
      if (!token || !sim.tokens.has(token)) { socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'); return; }
      wss.handleUpgrade(req, socket, head, (ws) => { sockets.push(ws); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await load({ mode: 'analytics', queueIds: 'q-fuzz-a' }, { baseUrl: '', loginUrl: sim.baseUrl, apiUrl });
      const out = collect('out');
      await waitFor(() => sockets.length === 1, 5000, 'the analytics socket');
      const ws = sockets[0];
      const rng = new Rng(SEED + 4);
      const frames = Array.from({ length: FRAMES }, () => analyticsFrame(rng));
      const t0 = Date.now();
      for (const f of frames) ws.send(f.data);
      ws.send(JSON.stringify({ type: 'event', eventType: 'conversation:end', data: { conversationId: 'sentinel-2' } }));
      await waitFor(() => out.some((m) => m.payload?.data?.conversationId === 'sentinel-2'), 30_000, 'the sentinel after all frames');
      const ms = Date.now() - t0;
      const expected = frames.filter((f) => f.emits).map((f) => JSON.parse(f.data as string));
      console.log(`  [hostile] analytics socket: seed ${SEED}, ${FRAMES} frames in ${ms} ms, ${expected.length} valid emitted; ${tally(frames)}`);
      assert.equal(out.length, expected.length + 1);
      assert.deepEqual(out.slice(0, -1).map((m) => JSON.stringify(m.payload)), expected.map((p) => JSON.stringify(p)));
      assert.equal(sockets.length, 1, 'garbage never cost the socket');
      // One warning per malformed frame (the helper's RED._ gives the message key, not the reason).
      const malformed = frames.filter((f) => !f.emits && !['info or unknown type', 'server error'].includes(f.cls)).length;
      assert.equal(warnings().filter((x) => x === 'genesys-ws-in.warn.malformed').length, malformed, 'every malformed frame warned about');
      assert.equal(warnings().filter((x) => x === 'genesys-ws-in.warn.serverError').length, frames.filter((f) => f.cls === 'server error').length);
      // Giant frame: over the limit the socket is dropped and reconnected, the next events arrive.
      ws.send(JSON.stringify({ type: 'event', eventType: 'conversation:update', data: { conversationId: 'giant', pad: 'x'.repeat(9 * 1024 * 1024) } }));
      await waitFor(() => sockets.length === 2 && sockets[1].readyState === 1, 10_000, 'reconnected after the giant frame');
      sockets[1].send(JSON.stringify({ type: 'event', eventType: 'conversation:end', data: { conversationId: 'after-giant' } }));
      await waitFor(() => out.some((m) => m.payload?.data?.conversationId === 'after-giant'), 5000, 'the event after the reconnect');
      assert.ok(!out.some((m) => m.payload?.data?.conversationId === 'giant'));
    } finally {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    }
  });
});
