import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
import { KafkaServer } from '../../harness/kafka';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { DeadLetterSpool } from '../../lib/kafka/spool';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { header, readTopic, waitFor } from './helpers';

const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const dlqNode = require('../../nodes/dlq/dlq');
const functionNode = require('@node-red/nodes/core/function/10-function.js');

helper.init(require.resolve('node-red'));

interface FlowOpts { brokers: string; topic: string; spoolDir: string; extra?: Record<string, unknown> }
// Flow nodes need x/y: without them Node-RED takes a node on a tab for a config node.
const at = (n: any): any => ({ x: 100, y: 100, ...n });
const flow = (o: FlowOpts): any[] => [
  { id: 'tab', type: 'tab', label: 'dlq' },
  { id: 'broker', type: 'kafka-broker', name: 'k', brokers: o.brokers, clientId: 'dlq-node-test', connectionTimeout: 1000, requestTimeout: 5000 },
  at({ id: 'dlq', type: 'dlq', z: 'tab', broker: 'broker', topic: o.topic, retries: 3, retryBaseMs: 10, retryMaxMs: 40, spoolDir: o.spoolDir,
    spoolAfterMs: 1500, spoolMaxMb: 16, includeStack: true, wires: [['retry'], ['dead']], ...o.extra }),
  at({ id: 'retry', type: 'helper', z: 'tab' }),
  at({ id: 'dead', type: 'helper', z: 'tab' }),
  at({ id: 'catch', type: 'catch', z: 'tab', scope: ['dlq'], uncaught: false, wires: [['caught']] }),
  at({ id: 'caught', type: 'helper', z: 'tab' }),
];

/** What a Catch node hands over for an error thrown by node `type`. */
const caught = (message: string, type = 'kafka-out', extra: Record<string, unknown> = {}) => ({ message, source: { id: 'src1', type, name: 'source', count: 1 }, ...extra });

describe('dlq node', function () {
  this.timeout(120_000);
  let spoolDir: string;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(() => { spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlq-node-')); });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });

  const collect = (id: string): any[] => {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => got.push(m));
    return got;
  };

  it('dead-letters a 4xx at once with headers a consumer reads back, and settles the delivery', async () => {
    const topic = uniqueName('dlq-headers');
    await helper.load([brokerNode, dlqNode], flow({ brokers: kafkaBrokers().join(','), topic, spoolDir }));
    const retried = collect('retry');
    const dead = collect('dead');
    const { ids, result } = deliveryTracker.open(1, 20_000);
    helper.getNode('dlq').receive({
      payload: { event_id: 'e-1', sequence: 2, state: 'connected' }, key: 'conv-42', topic: 'genesys.interactions',
      headers: { 'x-trace': 't-1' },
      genesys: { source: 'webhook', receivedAt: '2024-05-01T10:00:00.000Z', deliveryId: ids[0] },
      error: caught('GenesysApiError: HTTP 400 Bad Request: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', 'genesys-events-out', { stack: 'GenesysApiError: HTTP 400\n    at send (api.js:1:1)' }),
    } as any);
    const r = await result;
    assert.equal(r.ok, true);
    assert.equal(r.outcomes['dead-lettered'], 1);
    await waitFor(() => dead.length === 1, 2000, 'output 2');
    assert.equal(retried.length, 0, '4xx is never retried');
    assert.equal(dead[0].dlq.reason, 'validation');
    assert.equal(dead[0].dlq.storedIn, 'kafka');

    const [rec] = await readTopic(kafkaBrokers(), topic, 1);
    assert.equal(String(rec.key), 'conv-42');
    assert.deepEqual(JSON.parse(String(rec.value)), { event_id: 'e-1', sequence: 2, state: 'connected' });
    const h = (n: string) => header(rec, n);
    assert.equal(h('dlq.reason'), 'validation');
    assert.equal(h('dlq.retryable'), 'false');
    assert.equal(h('dlq.error.class'), 'GenesysApiError');
    assert.equal(h('dlq.error.status'), '400');
    assert.equal(h('dlq.source.node.type'), 'genesys-events-out');
    assert.equal(h('dlq.source.node.id'), 'src1');
    assert.equal(h('dlq.node.id'), 'dlq');
    assert.equal(h('dlq.attempts'), '1');
    assert.ok(h('dlq.first.failure') && h('dlq.first.failure') === h('dlq.last.failure'));
    assert.equal(h('dlq.original.topic'), 'genesys.interactions');
    assert.equal(h('dlq.genesys.source'), 'webhook');
    assert.equal(h('dlq.genesys.received.at'), '2024-05-01T10:00:00.000Z');
    assert.equal(h('x-trace'), 't-1');
    assert.match(h('dlq.error.stacktrace')!, /at send/);
    assert.ok(!JSON.stringify(rec.headers, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString() : v)).includes('eyJhbGci'), 'no token in any header');
  });

  it('retries a 503 three times on output 1 (attempts in msg.dlq), then dead-letters it', async () => {
    const topic = uniqueName('dlq-retry');
    await helper.load([brokerNode, dlqNode], flow({ brokers: kafkaBrokers().join(','), topic, spoolDir }));
    const dlq = helper.getNode('dlq');
    const attempts: number[] = [];
    // The flow's loop: kafka-out fails again, its Catch node hands the msg back to the dlq node.
    helper.getNode('retry').on('input', (m: any) => {
      attempts.push(m.dlq.attempts);
      assert.equal(m.error, undefined, 'a retried msg carries no stale error');
      dlq.receive({ ...m, error: caught('KafkaSendError: HTTP 503 Service Unavailable') });
    });
    const dead = collect('dead');
    dlq.receive({ payload: { n: 1 }, key: 'conv-503', error: caught('GenesysApiError: HTTP 503 Service Unavailable') } as any);
    await waitFor(() => dead.length === 1, 10_000, 'dead letter');
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(dead[0].dlq.attempts, 4);
    assert.equal(dead[0].dlq.reason, 'http-5xx');
    const [rec] = await readTopic(kafkaBrokers(), topic, 1);
    assert.equal(header(rec, 'dlq.attempts'), '4');
    assert.equal(header(rec, 'dlq.reason'), 'http-5xx');
    assert.ok(header(rec, 'dlq.first.failure')! < header(rec, 'dlq.last.failure')!);
  });

  it('a redeploy during a retry backoff dead-letters the waiting message instead of losing it', async () => {
    const topic = uniqueName('dlq-close');
    await helper.load([brokerNode, dlqNode], flow({ brokers: kafkaBrokers().join(','), topic, spoolDir, extra: { retryBaseMs: 60_000, retryMaxMs: 60_000 } }));
    const retried = collect('retry');
    helper.getNode('dlq').receive({ payload: { n: 7 }, key: 'conv-close', error: caught('Error: HTTP 503') } as any);
    await new Promise((r) => setTimeout(r, 100));
    await helper.unload();
    assert.equal(retried.length, 0);
    // A full stop closes the kafka-broker at the same time: the dead letter is in Kafka or, fsynced, in the spool.
    const spool = await DeadLetterSpool.open({ dir: spoolDir });
    let headers: Record<string, string>;
    let key: string;
    if (spool.depth === 1) {
      const recs: OutgoingRecord[] = [];
      await spool.drain(async (b) => { recs.push(...b); });
      headers = recs[0].headers as Record<string, string>;
      key = String(recs[0].key);
    } else {
      const [rec] = await readTopic(kafkaBrokers(), topic, 1);
      headers = Object.fromEntries(Object.keys(rec.headers ?? {}).map((k) => [k, header(rec, k)!]));
      key = String(rec.key);
    }
    await spool.close();
    assert.equal(key, 'conv-close');
    assert.match(headers['dlq.error.message'], /retry 1 interrupted: node closed/);
    assert.equal(headers['dlq.reason'], 'http-5xx');
  });

  it('handles bad input with a clear reason: no payload, a payload that cannot be serialized, no error at all', async () => {
    const topic = uniqueName('dlq-bad');
    await helper.load([brokerNode, dlqNode], flow({ brokers: kafkaBrokers().join(','), topic, spoolDir }));
    const dead = collect('dead');
    const retried = collect('retry');
    const dlq = helper.getNode('dlq');
    const circular: any = { id: 'c' };
    circular.self = circular;
    dlq.receive({ key: 'no-payload', error: caught('Error: HTTP 503') } as any);
    dlq.receive({ key: 'circular', payload: circular, error: caught('TypeError: Converting circular structure to JSON') } as any);
    dlq.receive({ key: 'no-error', payload: { ok: 1 } } as any);
    await waitFor(() => dead.length === 3, 10_000, 'three dead letters');
    assert.equal(retried.length, 0, 'nothing to resend without a payload');
    const recs = await readTopic(kafkaBrokers(), topic, 3);
    const byKey = new Map(recs.map((r) => [String(r.key), r]));
    assert.equal(header(byKey.get('no-payload')!, 'dlq.reason'), 'poison');
    assert.equal(header(byKey.get('no-payload')!, 'dlq.payload.problem'), 'msg.payload is missing');
    assert.equal(byKey.get('no-payload')!.value, null);
    assert.equal(header(byKey.get('circular')!, 'dlq.reason'), 'poison');
    assert.deepEqual(JSON.parse(String(byKey.get('circular')!.value)), { id: 'c', self: '[Circular]' });
    assert.equal(header(byKey.get('no-error')!, 'dlq.reason'), 'unknown');
    assert.match(header(byKey.get('no-error')!, 'dlq.error.message')!, /msg\.error is missing/);
  });

  it('keeps up with a failure storm: 10,000 validation failures dead-lettered and read back', async () => {
    const topic = uniqueName('dlq-storm');
    await helper.load([brokerNode, dlqNode], flow({ brokers: kafkaBrokers().join(','), topic, spoolDir }));
    const dlq = helper.getNode('dlq');
    let dead = 0;
    const stored: Record<string, number> = {};
    helper.getNode('dead').on('input', (m: any) => { dead++; stored[m.dlq.storedIn] = (stored[m.dlq.storedIn] ?? 0) + 1; });
    const n = 10_000;
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      dlq.receive({ payload: { event_id: `e${i}`, sequence: i, state: 'connected' }, key: `conv-${i % 500}`, error: { reason: 'validation', message: "must have required property 'interaction_type'", path: '/interaction_type' } } as any);
    }
    await waitFor(() => dead === n, 60_000, `${n} dead letters acknowledged`);
    const ms = Date.now() - t0;
    console.log(`      ${n} dead letters acked by Kafka in ${ms} ms (${Math.round(n / (ms / 1000))}/s)`, stored);
    const got = await readTopic(kafkaBrokers(), topic, n, 30_000);
    assert.equal(new Set(got.map((m) => header(m, 'dlq.id'))).size, n);
  });

  it('without a kafka-broker every message is reported through done(err), none is swallowed', async () => {
    const f = flow({ brokers: 'x:1', topic: 't', spoolDir }).filter((n) => n.id !== 'broker').map((n) => (n.id === 'dlq' ? { ...n, broker: '' } : n));
    await helper.load([brokerNode, dlqNode], f);
    const caughtMsgs = collect('caught');
    helper.getNode('dlq').receive({ payload: { a: 1 }, key: 'k', error: caught('Error: HTTP 400') } as any);
    await waitFor(() => caughtMsgs.length === 1, 5000, 'caught');
    assert.equal(caughtMsgs[0].error.message, 'Error: dlq.errors.no-broker');
    assert.deepEqual(caughtMsgs[0].payload, { a: 1 });
  });

  it('takes errors from a Catch node: a function node that throws ends up dead-lettered', async () => {
    const topic = uniqueName('dlq-catch');
    const f = flow({ brokers: kafkaBrokers().join(','), topic, spoolDir }).filter((n) => n.id !== 'catch' && n.id !== 'caught');
    f.push(
      at({ id: 'fn', type: 'function', z: 'tab', func: "if (msg.payload.bad) { throw new Error('mapping failed for ' + msg.key); } return msg;", outputs: 1, wires: [[]] }),
      at({ id: 'catchAll', type: 'catch', z: 'tab', scope: ['fn'], wires: [['dlq']] }),
    );
    await helper.load([brokerNode, dlqNode, functionNode], f);
    const dead = collect('dead');
    helper.getNode('fn').receive({ payload: { bad: true }, key: 'conv-fn' } as any);
    await waitFor(() => dead.length === 1, 10_000, 'dead letter from the Catch path');
    const [rec] = await readTopic(kafkaBrokers(), topic, 1);
    assert.equal(String(rec.key), 'conv-fn');
    assert.equal(header(rec, 'dlq.source.node.type'), 'function');
    assert.equal(header(rec, 'dlq.source.node.id'), 'fn');
    assert.equal(header(rec, 'dlq.error.message'), 'mapping failed for conv-fn');
    assert.equal(header(rec, 'dlq.reason'), 'unknown');
    assert.deepEqual(JSON.parse(String(rec.value)), { bad: true });
  });

  it('reports a full spool through done(err) for a Catch node and its status, without dropping silently', async () => {
    // A broker port nobody listens on: every dead letter goes to the spool.
    await helper.load([brokerNode, dlqNode], flow({ brokers: '127.0.0.1:9', topic: 'never', spoolDir, extra: { spoolMaxMb: 1, spoolAfterMs: 300 } }));
    const dlq = helper.getNode('dlq');
    const caughtMsgs = collect('caught');
    const dead = collect('dead');
    const statuses: any[] = [];
    dlq.on('call:status', (c: any) => statuses.push(c.args[0]));
    const big = 'x'.repeat(300 * 1024);
    for (let i = 0; i < 7; i++) dlq.receive({ payload: { i, big }, key: `k${i}`, error: caught('Error: HTTP 400') } as any);
    await waitFor(() => dead.length + caughtMsgs.length === 7, 15_000, 'every message accounted for');
    assert.equal(dead.length, 3, `3 × ~300 KiB fit in 1 MiB: ${JSON.stringify(dead.map((m) => m.dlq))}`);
    assert.ok(dead.every((m) => m.dlq.storedIn === 'spool'));
    assert.equal(caughtMsgs.length, 4);
    assert.match(caughtMsgs[0].error.message, /DLQ spool full: \d dead letters \(\d+ of 1048576 bytes\).*NOT spooled/);
    await waitFor(() => statuses.some((s) => s.fill === 'red' && s.text === 'dlq.status.spool-full'), 2000, 'red spool-full status');
  });

  it('Kafka down: dead letters are fsynced to the spool, drained in order when it is back, also after a node restart', async () => {
    const server = await new KafkaServer().start();
    const topic = uniqueName('dlq-down');
    const load = () => helper.load([brokerNode, dlqNode], flow({ brokers: server.brokers, topic, spoolDir, extra: { spoolAfterMs: 1000, drainRetryMaxMs: 2000 } }));
    const send = async (from: number, n: number): Promise<any[]> => {
      const dead = collect('dead');
      const dlq = helper.getNode('dlq');
      for (let i = from; i < from + n; i++) dlq.receive({ payload: { i }, key: 'conv-down', error: caught('Error: HTTP 422') } as any);
      await waitFor(() => dead.length === n, 20_000, `${n} dead letters safe`);
      return dead;
    };
    const spooled = (): number => fs.readdirSync(spoolDir).filter((f) => f.startsWith('seg-'))
      .reduce((sum, f) => sum + fs.readFileSync(path.join(spoolDir, f), 'utf8').split('\n').filter(Boolean).length, 0);
    try {
      await load();
      await send(0, 5);
      // On a slow first connect these five may be spooled too: let them reach Kafka before it stops.
      await waitFor(() => !fs.readdirSync(spoolDir).some((f) => f.startsWith('seg-')), 60_000, 'first five drained');
      await server.stop();
      const during = await send(5, 20);
      assert.ok(during.every((m) => m.dlq.storedIn === 'spool'));
      assert.equal(spooled(), 20, 'the spool file holds them (fsynced before done)');
      await server.launch();
      await waitFor(() => !fs.readdirSync(spoolDir).some((f) => f.startsWith('seg-')), 60_000, 'spool drained');

      // Node restart with a non-empty spool: stop Kafka, fill the spool, redeploy, bring Kafka back.
      await server.stop();
      await send(25, 15);
      await helper.unload();
      assert.equal(spooled(), 15);
      await server.launch();
      await load();
      await waitFor(() => !fs.readdirSync(spoolDir).some((f) => f.startsWith('seg-')), 60_000, 'spool drained after restart');

      const got = await readTopic([server.brokers], topic, 40, 30_000);
      assert.deepEqual(got.map((m) => JSON.parse(String(m.value)).i), Array.from({ length: 40 }, (_, i) => i), `nothing lost, order kept: ${got.map((m) => JSON.parse(String(m.value)).i)}`);
      assert.equal(new Set(got.map((m) => header(m, 'dlq.id'))).size, 40, 'no duplicates');
    } finally {
      await helper.unload();
      await server.destroy();
    }
  });
});
