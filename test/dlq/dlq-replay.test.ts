import { strict as assert } from 'node:assert';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
import { Kafka, logLevel } from 'kafkajs';
import { buildDeadLetter } from '../../lib/kafka/dlq-record';
import { classifyFailure } from '../../lib/kafka/retry-classification';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readTopic, waitFor } from './helpers';

const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');
const replayNode = require('../../nodes/dlq-replay/dlq-replay');

helper.init(require.resolve('node-red'));

const at = (n: any): any => ({ x: 100, y: 100, ...n });
const history = { attempts: 1, firstFailure: '2024-05-01T02:00:00.000Z', lastFailure: '2024-05-01T02:00:00.000Z' };

/** Writes dead letters the way the dlq node does (same builder), straight to the DLQ topic. */
async function seedDlq(topic: string): Promise<void> {
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  // One partition: the order of the dead letters is the order the test expects back.
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const genesys = { source: 'notification' as const, receivedAt: '2024-05-01T01:59:59.000Z', topicName: 'v2.routing.queues.q1.conversations' };
  const validation = classifyFailure({ reason: 'validation', message: "must have required property 'state'", path: '/state' });
  const auth = classifyFailure(Object.assign(new Error('HTTP 403'), { status: 403 }));
  const letters = [
    buildDeadLetter({ payload: { event_id: 'e1', ai_sentiment: { score: 0.7 } }, key: 'conv-1', topic: 'genesys.interactions', genesys, headers: { 'x-trace': 'a' } }, validation, history, { topic }),
    buildDeadLetter({ payload: Buffer.from([1, 2, 3, 250]), key: 'conv-2', genesys }, validation, history, { topic }),
    buildDeadLetter({ payload: { event_id: 'e3' }, key: 'conv-3', genesys }, auth, history, { topic }),
  ];
  await producer.send({ topic, acks: -1, messages: letters.map((l) => ({ key: l.record.key, value: l.record.value, headers: l.record.headers })) });
  await producer.disconnect();
}

const flow = (dlqTopic: string, target: string, replay: Record<string, unknown>, out: 'kafka-out' | 'helper' = 'kafka-out'): any[] => [
  { id: 'tab', type: 'tab' },
  { id: 'broker', type: 'kafka-broker', brokers: kafkaBrokers().join(','), clientId: 'dlq-replay-test' },
  at({ id: 'replay', type: 'dlq-replay', z: 'tab', broker: 'broker', topic: dlqTopic, from: 'earliest', commitAfter: 'settled', settleTimeoutMs: 10_000, ...replay, wires: [['out', 'events'], ['summary']] }),
  out === 'kafka-out'
    ? at({ id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic: target, topicFromMsg: false, keyProperty: 'key', headersFromMsg: true, lingerMs: 2, wires: [] })
    : at({ id: 'out', type: 'helper', z: 'tab' }),
  at({ id: 'events', type: 'helper', z: 'tab' }),
  at({ id: 'summary', type: 'helper', z: 'tab' }),
];

describe('dlq-replay node', function () {
  this.timeout(60_000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  const collect = (id: string): any[] => {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => got.push(m));
    return got;
  };

  it('round trip: dead letters replayed by reason come back to a topic with the same key and value, then resume from the commit', async () => {
    const dlqTopic = uniqueName('dlq-replay-src');
    const target = uniqueName('dlq-replay-target');
    const groupId = uniqueName('dlq-replay-group');
    await seedDlq(dlqTopic);
    await helper.load([brokerNode, kafkaOutNode, replayNode], flow(dlqTopic, target, { groupId, reasons: 'validation' }));
    const events = collect('events');
    const summary = collect('summary');
    helper.getNode('replay').receive({ payload: 'start' } as any);
    await waitFor(() => summary.length === 1, 30_000, 'replay summary');
    assert.equal(summary[0].payload.replayed, 2);
    assert.equal(summary[0].payload.skipped, 1);
    assert.equal(summary[0].payload.stopped, false);

    const back = await readTopic(kafkaBrokers(), target, 2);
    const byKey = new Map(back.map((m) => [String(m.key), m]));
    assert.deepEqual(JSON.parse(String(byKey.get('conv-1')!.value)), { event_id: 'e1', ai_sentiment: { score: 0.7 } });
    assert.ok(Buffer.from([1, 2, 3, 250]).equals(byKey.get('conv-2')!.value!), 'raw bytes come back as they were');
    assert.equal(String(byKey.get('conv-1')!.headers!['x-trace']), 'a');
    assert.ok(!Object.keys(byKey.get('conv-1')!.headers!).some((h) => h.startsWith('dlq.')), 'no dlq context on the replayed record');

    const e1 = events.find((m) => m.key === 'conv-1');
    assert.equal(e1.topic, 'genesys.interactions');
    assert.equal(e1.genesys.source, 'notification');
    assert.equal(e1.genesys.receivedAt, '2024-05-01T01:59:59.000Z');
    assert.equal(e1.replay.reason, 'validation');
    assert.equal(e1.replay.path, '/state');
    assert.equal(e1.dlq, undefined, 'a replayed event starts a fresh attempt count');

    // Same group, resume: everything up to the end was committed, nothing is replayed twice.
    helper.getNode('replay').receive({ payload: 'start', replay: { from: 'committed' } } as any);
    await waitFor(() => summary.length === 2, 30_000, 'second summary');
    assert.equal(summary[1].payload.replayed, 0);
    assert.equal(events.length, 2);
  });

  it('does not commit events nobody settled: the replay stops with an error and the next run starts with them', async () => {
    const dlqTopic = uniqueName('dlq-replay-unsettled');
    const groupId = uniqueName('dlq-replay-group');
    await seedDlq(dlqTopic);
    await helper.load([brokerNode, kafkaOutNode, replayNode], flow(dlqTopic, 'unused', { groupId, from: 'committed', settleTimeoutMs: 1000 }, 'helper'));
    const replay = helper.getNode('replay');
    const errors: string[] = [];
    replay.on('call:error', (c: any) => errors.push(String(c.args[0])));
    const events = collect('events');
    replay.receive({ payload: 'start' } as any);
    await waitFor(() => errors.length === 1, 20_000, 'replay error');
    assert.match(errors[0], /dlq-replay.errors.failed/);
    const first = events.length;
    assert.ok(first >= 1);
    await new Promise((r) => setTimeout(r, 300));
    replay.receive({ payload: 'start', replay: { from: 'committed' } } as any);
    await waitFor(() => events.length >= first + 1, 20_000, 'the same events again');
    assert.equal(events[first].key, events[0].key, 'resumed at the uncommitted dead letter');
  });

  it('rejects a bad start time with a clear error and no consumer', async () => {
    await helper.load([brokerNode, kafkaOutNode, replayNode], flow('x', 'y', {}, 'helper'));
    const replay = helper.getNode('replay');
    const errors: string[] = [];
    replay.on('call:error', (c: any) => errors.push(String(c.args[0])));
    replay.receive({ payload: 'start', replay: { from: 'timestamp', fromTime: 'yesterday-ish' } } as any);
    await waitFor(() => errors.length === 1, 2000, 'error');
    assert.equal(errors[0], 'dlq-replay.errors.bad-time');
  });
});
