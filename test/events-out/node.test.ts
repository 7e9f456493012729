import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import { Redis } from 'ioredis';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import { ingestState, INGEST_ROUTE, type IngestSimState } from '../../simulator/routes/ingest';
import { oauthState } from '../../simulator/routes/oauth';
import { redisUrl, uniqueName } from '../fixtures/env';
import configInit = require('../../nodes/genesys-config/genesys-config');
import eventsOutInit = require('../../nodes/genesys-events-out/genesys-events-out');
import { events, receivedIds, sampleEvent, sleep, waitFor } from './support';

helper.init(require.resolve('node-red'));

describe('genesys-events-out node', function () {
  let sim: GenesysSimulator;
  let st: IngestSimState;
  let dir: string;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    st = ingestState(sim);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-out-'));
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const eo = (id: string, opts: Record<string, unknown>) => ({
    id, type: 'genesys-events-out', z: 'tab', genesys: 'c1', path: INGEST_ROUTE, batchKb: 500, lingerMs: 10, maxRequestKb: 1000,
    concurrency: 5, maxAttempts: 3, rateLimitRetries: 10, requestTimeout: 5, maxQueued: 10000, dedup: 'memory', dedupWindow: 300,
    dedupMaxEntries: 1000, audit: 'off', closeTimeout: 2, retryInitialMs: 10, retryMaxMs: 50, wires: [['accepted'], ['audit']], ...opts,
  });
  const flow = (opts: Record<string, unknown> = {}, extra: any[] = []) => [
    { id: 'tab', type: 'tab' },
    { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 },
    eo('out1', opts),
    { id: 'accepted', type: 'helper', z: 'tab' },
    { id: 'audit', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    ...extra,
  ].map((n: any) => (n.z ? { x: 100, y: 100, ...n } : n));
  const load = (opts: Record<string, unknown> = {}, extra: any[] = []) =>
    helper.load([configInit, eventsOutInit], flow(opts, extra), { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
  const collect = (id: string): any[] => {
    const msgs: any[] = [];
    helper.getNode(id).on('input', (m: any) => msgs.push(m));
    return msgs;
  };
  const statuses = (id: string) => (helper.getNode(id) as any).status.args.map((a: any[]) => a[0]);

  it('sends one event or an array; the message goes on (and is done) once Genesys accepted it', async () => {
    await load();
    const accepted = collect('accepted');
    const caught = collect('caught');
    const one = sampleEvent();
    const many = events(3);
    helper.getNode('out1').receive({ payload: one } as any);
    helper.getNode('out1').receive({ payload: JSON.stringify(many) } as any);
    await waitFor(() => accepted.length === 2, 3000, 'two accepted messages');
    assert.equal(caught.length, 0);
    const single = accepted.find((m) => m.payload === one)!;
    assert.equal(single.ingest.accepted, 1);
    assert.equal(single.ingest.batchIds.length, 1);
    assert.deepEqual(receivedIds(st).sort(), [one, ...many].map((e) => e.interactionId).sort());
    await waitFor(() => statuses('out1').some((s: any) => s.text === 'genesys-events-out.status.sending'), 3000, 'sending status');
  });

  it('bad input never reaches Genesys: a Catch node gets the failing path', async () => {
    await load();
    const caught = collect('caught');
    const accepted = collect('accepted');
    const node = helper.getNode('out1');
    node.receive({ payload: { ...sampleEvent(), eventTime: '2024-05-01T10:00:00' } } as any);
    node.receive({ payload: [sampleEvent(), { ...sampleEvent(), routingMetadata: { queueId: 'q', skill: 's', actionType: 'HOLD' } }] } as any);
    node.receive({ payload: 42 } as any);
    node.receive({ payload: 'not json' } as any);
    node.receive({ payload: [] } as any);
    node.receive({ payload: sampleEvent({}, 1_100_000) } as any);
    await waitFor(() => caught.length === 6, 3000, 'six errors');
    assert.equal(accepted.length, 0);
    assert.equal(st.requests, 0, 'nothing was sent to the simulator');
    const byText = (re: RegExp) => caught.find((m) => re.test(m.error.message));
    const tz = byText(/\/eventTime/)!;
    assert.equal(tz.ingest.errors[0].path, '/eventTime');
    const arr = byText(/event\[1\]/)!;
    assert.equal(arr.ingest.errors[0].path, '/routingMetadata/actionType');
    assert.ok(byText(/got number/));
    assert.ok(byText(/not JSON/));
    assert.ok(byText(/empty array/));
    const huge = byText(/request limit/)!;
    assert.equal(huge.ingest.failed[0].kind, 'too-large');
    await waitFor(() => statuses('out1').some((s: any) => s.fill === 'yellow'), 2000, 'error status');
  });

  it('dedup: a replay inside the window is not sent twice (also inside one array); a failed event is let through again', async () => {
    await load();
    const accepted = collect('accepted');
    const caught = collect('caught');
    const node = helper.getNode('out1');
    const e = sampleEvent();
    node.receive({ payload: [e, { ...e }] } as any);
    node.receive({ payload: { ...e } } as any);
    await waitFor(() => accepted.length === 2, 3000, 'both messages done');
    assert.equal(st.acceptedEvents, 1);
    assert.equal(accepted.reduce((n, m) => n + m.ingest.duplicates, 0), 2);
    // Same interaction, another event: not a duplicate (the guide's interactionId-only key would drop it).
    node.receive({ payload: { ...e, eventType: 'routing.interaction.disconnect', routingMetadata: { ...e.routingMetadata, actionType: 'DISCONNECT' } } } as any);
    await waitFor(() => accepted.length === 3, 3000, 'disconnect accepted');
    assert.equal(st.acceptedEvents, 2);

    const f = sampleEvent();
    sim.injectFault(INGEST_ROUTE, 422, 1);
    node.receive({ payload: f } as any);
    await waitFor(() => caught.length === 1, 3000, 'the failure');
    assert.equal(caught[0].ingest.failed[0].status, 422);
    node.receive({ payload: f } as any);
    await waitFor(() => accepted.length === 4, 3000, 'the replay accepted');
    assert.equal(st.acceptedEvents, 3);
  });

  it('dedup in Redis: two instances sharing the window send an event once', async () => {
    const prefix = `${uniqueName('ingest-dedup')}:`;
    const redisOpts = { dedup: 'redis', redisUrl: redisUrl(), redisPrefix: prefix };
    await load(redisOpts, [eo('out2', { ...redisOpts, wires: [['accepted'], []] })]);
    const accepted = collect('accepted');
    const e = sampleEvent();
    helper.getNode('out1').receive({ payload: e } as any);
    await waitFor(() => accepted.length === 1, 5000, 'first instance');
    helper.getNode('out2').receive({ payload: { ...e } } as any);
    await waitFor(() => accepted.length === 2, 5000, 'second instance');
    assert.equal(st.acceptedEvents, 1);
    assert.equal(accepted[1].ingest.duplicates, 1);
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`${prefix}*`);
      assert.equal(keys.length, 1);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('audit: one line per batch to the second output and to a rotating file, matching what Genesys received; never the token', async () => {
    const file = path.join(dir, 'audit.log');
    await load({ audit: 'both', auditFile: file, auditMaxMb: 0.001, auditKeep: 2, batchKb: 3 });
    const accepted = collect('accepted');
    const audit = collect('audit');
    for (let i = 0; i < 20; i++) helper.getNode('out1').receive({ payload: events(5, 200) } as any);
    await waitFor(() => accepted.length === 20, 5000, 'all accepted');
    await waitFor(() => audit.length === st.batches.length, 2000, 'audit lines');
    const lines = audit.map((m) => m.payload);
    assert.ok(lines.every((l) => l.outcome === 'accepted' && l.status === 200 && l.attempts === 1));
    const sig = (events: number, bytes: number, ids: string[]) => `${events}/${bytes}/${[...ids].sort().join(',')}`;
    assert.deepEqual(lines.map((l) => sig(l.events, l.bytes, l.interactionIds)).sort(), st.batches.map((b) => sig(b.count, b.bytes, b.interactionIds)).sort());
    await helper.unload(); // closes the file
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, ['audit.log', 'audit.log.1', 'audit.log.2'], 'rotated, two old files kept');
    const text = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    for (const token of sim.tokens.keys()) assert.ok(!text.includes(token), 'no token in the audit file');
    for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= Math.floor(1048576 * 0.001), 'no file past the rotation size');
    const fromFile = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(fromFile.every((l) => typeof l.batchId === 'string' && typeof l.latencyMs === 'number'));
    assert.ok(fromFile.length < lines.length, 'the oldest file was dropped');
  });

  it('401 mid-run: genesys-config refreshes the token and the batch is retried once', async () => {
    await load();
    const accepted = collect('accepted');
    helper.getNode('out1').receive({ payload: sampleEvent() } as any);
    await waitFor(() => accepted.length === 1, 3000, 'first');
    const calls = oauthState(sim).calls;
    sim.revokeAllTokens();
    helper.getNode('out1').receive({ payload: sampleEvent() } as any);
    await waitFor(() => accepted.length === 2, 3000, 'after the refresh');
    assert.equal(oauthState(sim).calls, calls + 1);
  });

  it('redeploy with events queued: every message is either accepted or done with an error, nothing lost', async () => {
    const { hooks } = require('@node-red/util');
    const completed = new Map<string, 'ok' | 'error'>();
    hooks.add('onComplete.eventsOutTest', (ev: any) => { if (ev.node.id === 'out1') completed.set(ev.msg._msgid, ev.error ? 'error' : 'ok'); });
    try {
      st.options.processingDelayMs = 200;
      await load({ concurrency: 1, batchKb: 2, closeTimeout: 0.5 });
      const sent = new Map<string, string[]>();
      for (let i = 0; i < 30; i++) {
        const payload = events(2, 300);
        const msg = { _msgid: `m${i}`, payload };
        sent.set(msg._msgid, payload.map((e) => e.interactionId));
        helper.getNode('out1').receive(msg as any);
      }
      await sleep(250);
      await helper.setFlows(flow({ concurrency: 1, batchKb: 2, closeTimeout: 0.5, name: 'v2' }), 'nodes');
      await waitFor(() => completed.size === 30, 3000, 'every message completed');
      const got = new Set(receivedIds(st));
      let ok = 0;
      for (const [id, outcome] of completed) {
        if (outcome === 'ok') { ok++; assert.ok(sent.get(id)!.every((i) => got.has(i)), `${id} done() but not in Genesys`); }
      }
      assert.ok(ok > 0 && ok < 30, `${ok} of 30 accepted before the redeploy`);
    } finally {
      hooks.remove('onComplete.eventsOutTest');
    }
  });

  it('without a genesys-config every message is refused with an error', async () => {
    await helper.load([configInit, eventsOutInit], [
      { id: 'tab', type: 'tab' },
      { id: 'out1', type: 'genesys-events-out', z: 'tab', x: 1, y: 1, genesys: '', wires: [[], []] },
      { id: 'catcher', type: 'catch', z: 'tab', x: 1, y: 1, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 1, y: 1 },
    ]);
    const caught = collect('caught');
    helper.getNode('out1').receive({ payload: sampleEvent() } as any);
    await waitFor(() => caught.length === 1, 2000, 'refusal');
    assert.match(caught[0].error.message, /noConfig/);
  });
});
