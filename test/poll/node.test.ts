import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { EventStreamsState } from '../../simulator/routes/eventstreams';
import configInit = require('../../nodes/genesys-config/genesys-config');
import pollInit = require('../../nodes/genesys-eventstream-poll/genesys-eventstream-poll');
import { sleep, startConversations, waitFor } from './support';

helper.init(require.resolve('node-red'));

describe('genesys-eventstream-poll node', function () {
  let sim: GenesysSimulator;
  let streams: EventStreamsState;
  let dir: string;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    streams = sim.state.eventstreams as EventStreamsState;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-node-'));
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flow = (poll: Record<string, unknown>) => [
    { id: 'tab', type: 'tab' },
    { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 },
    {
      id: 'p1', type: 'genesys-eventstream-poll', z: 'tab', genesys: 'c1', mode: 'eventstream', interval: 0.1, pageSize: 10,
      ack: 'emit', ackTimeout: 30, store: 'file', cursorFile: path.join(dir, 'cursor.json'), errorRetryMs: 300,
      backoffInitialMs: 50, backoffMaxMs: 200, wires: [['out']], ...poll,
    },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ].map((n) => (n.z ? { x: 100, y: 100, ...n } : n));
  const load = (poll: Record<string, unknown>) =>
    helper.load([configInit, pollInit], flow(poll), { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
  const collect = (id: string): any[] => {
    const msgs: any[] = [];
    helper.getNode(id).on('input', (m: any) => msgs.push(m));
    return msgs;
  };
  const stream = () => streams.createStream('node-test', [{ entityType: 'interaction', eventType: 'created' }, { entityType: 'interaction', eventType: 'updated' }]);
  const statuses = (id: string) => (helper.getNode(id) as any).status.args.map((a: any[]) => a[0]);

  it('emits one message per event (payload, key, genesys meta) and resumes after a redeploy without gap or duplicate', async () => {
    const s = stream();
    const ids = startConversations(sim, 15);
    await load({ streamId: s.subscription.id });
    let out = collect('out');
    await waitFor(() => out.length === 15, 3000, '15 messages');
    const m = out[0];
    assert.deepEqual(Object.keys(m.payload).sort(), ['entity', 'entityType', 'eventType', 'id', 'timestamp']);
    assert.equal(m.key, ids[0]);
    assert.equal(m.genesys.source, 'eventstream');
    assert.equal(m.genesys.topicName, s.subscription.id);
    assert.ok(Date.parse(m.genesys.receivedAt) >= Date.parse(m.payload.timestamp));
    await waitFor(() => statuses('p1').some((st: any) => st.text === 'genesys-eventstream-poll.status.polling'), 3000, 'polling status');
    const first = out.map((x) => x.payload.id);
    await helper.unload();
    startConversations(sim, 6);
    await load({ streamId: s.subscription.id });
    out = collect('out');
    await waitFor(() => out.length === 6, 3000, '6 after restart');
    await sleep(300);
    const all = [...first, ...out.map((x) => x.payload.id)];
    assert.deepEqual(all, sim.ledger.byPath('eventstream').map((e) => e.eventId));
  });

  it('after delivery: the cursor waits for settlement; an unsettled page is emitted again, a settled one is saved', async () => {
    const s = stream();
    startConversations(sim, 3);
    await load({ streamId: s.subscription.id, ack: 'delivery', ackTimeout: 0.3 });
    const out: any[] = [];
    let settle = false;
    helper.getNode('out').on('input', (msg: any) => { out.push(msg); if (settle) deliveryTracker.settle(msg, 'stored'); });
    await waitFor(() => out.length >= 6, 3000, 'page emitted twice');
    assert.ok(out.every((m) => typeof m.genesys.deliveryId === 'string'));
    assert.deepEqual(out.slice(3, 6).map((m) => m.payload.id), out.slice(0, 3).map((m) => m.payload.id));
    assert.ok(!fs.existsSync(path.join(dir, 'cursor.json')), 'nothing saved while unsettled');
    const warnings = (helper.getNode('p1') as any).warn.args.map((a: any[]) => String(a[0]));
    assert.ok(warnings.some((w: string) => /only 0 of 3 events were settled/.test(w) || /unsettled/.test(w)), warnings.join('\n'));
    settle = true;
    await waitFor(() => fs.existsSync(path.join(dir, 'cursor.json')), 3000, 'cursor saved once settled');
    const n = out.length;
    await sleep(300);
    assert.equal(out.length, n, 'no more repeats once settled');
  });

  it('after delivery: page after page leaves no listener behind (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const s = stream();
      startConversations(sim, 120); // pages of 10 events: 12 pages, each settled downstream
      await load({ streamId: s.subscription.id, ack: 'delivery', ackTimeout: 5 });
      const out: any[] = [];
      helper.getNode('out').on('input', (msg: any) => { out.push(msg); deliveryTracker.settle(msg, 'stored'); });
      await waitFor(() => out.length >= 120, 5000, 'every page emitted and settled');
      await sleep(50); // warnings are emitted on the next tick
      assert.deepEqual(warnings.map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('creates the subscription with its filters when no stream id is set', async () => {
    await load({
      streamId: '', createSubscription: true, subscriptionName: 'inbound-only',
      eventTypes: JSON.stringify([{ entityType: 'interaction', eventType: 'created', filter: '{"direction":"inbound"}' }]),
    });
    const out = collect('out');
    await waitFor(() => streams.streams.size === 1, 3000, 'subscription');
    const [created] = [...streams.streams.values()];
    assert.equal(created.subscription.name, 'inbound-only');
    startConversations(sim, 2, { direction: 'outbound' });
    const inbound = startConversations(sim, 2, { direction: 'inbound' });
    await waitFor(() => out.length === 2, 3000, 'inbound events');
    assert.deepEqual(out.map((m) => m.key), inbound);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'cursor.json'), 'utf8')).streamId, created.subscription.id);
  });

  it('a 4xx reaches a Catch node with the status, shows red, and is retried slowly', async () => {
    await load({ streamId: 'missing-stream' });
    const caught = collect('caught');
    await sleep(1000);
    const requests = streams.pollLog.filter((p) => p.streamId === 'missing-stream').length;
    assert.ok(requests >= 2 && requests <= 5, `${requests} requests in 1 s`);
    assert.ok(caught.length >= 2);
    assert.equal(caught[0].payload.status, 404);
    assert.match(caught[0].error.message, /404/);
    assert.deepEqual(statuses('p1').filter((st: any) => st.fill === 'red').at(-1), { fill: 'red', shape: 'ring', text: 'genesys-eventstream-poll.status.error' });
  });

  it('shows backing off on 5xx and recovers without losing events', async () => {
    const s = stream();
    startConversations(sim, 2);
    streams.pollOverrides.push({ status: 503, body: {} }, { status: 503, body: {} });
    await load({ streamId: s.subscription.id });
    const out = collect('out');
    await waitFor(() => out.length === 2, 3000, 'events after 503s');
    assert.ok(statuses('p1').some((st: any) => st.fill === 'yellow' && st.text === 'genesys-eventstream-poll.status.backoff'));
  });

  it('bad configuration: a clear error and no polling', async () => {
    await load({ streamId: '', createSubscription: true, eventTypes: '[{"entityType":' });
    await sleep(200);
    assert.deepEqual(statuses('p1').at(-1), { fill: 'red', shape: 'ring', text: 'genesys-eventstream-poll.status.config' });
    assert.equal(streams.pollLog.length, 0);
    assert.equal(streams.streams.size, 0);
    await helper.unload();
    await load({ streamId: '', createSubscription: false });
    assert.deepEqual(statuses('p1').at(-1)?.fill, 'red');
    await helper.unload();
    await helper.load([configInit, pollInit], [{ id: 'tab', type: 'tab' }, { id: 'p1', type: 'genesys-eventstream-poll', z: 'tab', genesys: 'nope', wires: [] }]);
    assert.deepEqual(statuses('p1').at(-1), { fill: 'red', shape: 'ring', text: 'genesys-eventstream-poll.status.noConfig' });
  });

  it('keeps the position in node context when asked to', async () => {
    const s = stream();
    startConversations(sim, 4);
    await load({ streamId: s.subscription.id, store: 'context', cursorFile: '' });
    const out = collect('out');
    await waitFor(() => out.length === 4, 3000, 'events');
    const node = helper.getNode('p1') as any;
    await waitFor(() => !!node.context().get('genesys-eventstream-position')?.cursor, 2000, 'cursor in context');
    assert.equal(node.context().get('genesys-eventstream-position').streamId, s.subscription.id);
  });

  it('details-query mode emits conversations keyed by conversationId', async () => {
    const ids = startConversations(sim, 5);
    await load({ mode: 'details-query', settle: 0, lookback: 5, query: '{"conversationFilters":[{"type":"and","predicates":[{"dimension":"direction","value":"inbound"}]}]}' });
    const out = collect('out');
    await waitFor(() => out.length === 5, 3000, 'conversations');
    assert.deepEqual(out.map((m) => m.key).sort(), [...ids].sort());
    assert.equal(out[0].genesys.source, 'details-query');
    assert.equal(out[0].payload.conversationId, out[0].key);
  });

  it('close stops polling at once', async () => {
    const s = stream();
    await load({ streamId: s.subscription.id, interval: 0.05 });
    await waitFor(() => streams.pollLog.length >= 2, 2000, 'polling');
    const t = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t < 1000);
    const n = streams.pollLog.length;
    await sleep(200);
    assert.equal(streams.pollLog.length, n);
  });
});
