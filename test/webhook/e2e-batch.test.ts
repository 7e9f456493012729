// Event batches ("one message per request"): webhook-in → dedup (Redis) → normalize → kafka-out with
// a dlq on normalize's error output and on kafka-out's failures (Catch), real Kafka and Redis. Every
// event of a request ends in the topic, the DLQ (its own dead letter, with its reason), or is dropped as
// a duplicate; the request is answered only then; a retry of the request adds nothing.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { kafkaBrokers, redisUrl, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import { helper, jsonHeaders, post, startServer, tab, webhookInit } from './node-support';
import { AUD, SECRET, token } from './support';

const dedupNode = require('../../nodes/dedup/dedup');
const normalizeNode = require('../../nodes/normalize/normalize');
const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');
const dlqNode = require('../../nodes/dlq/dlq');
const catchNode = require('@node-red/nodes/core/common/25-catch');

function pushEvent(id: string, conv = `conv-${id}`): Record<string, unknown> {
  return {
    data: { conversationId: conv, type: 'voice', state: 'connected', direction: 'inbound', timestamp: new Date().toISOString(), queue: { id: 'q-1', name: 'Sales' } },
    metadata: { eventId: id, sequence: 1 },
  };
}

function pipeline(o: { brokers: string; topic: string; dlqTopic: string; prefix: string; spoolDir: string; outTopic?: string }): any[] {
  return [
    tab,
    { id: 'broker', type: 'kafka-broker', name: 'k', brokers: o.brokers, clientId: 'webhook-batch-e2e', connectionTimeout: 1000, requestTimeout: 5000,
      autoCreateTopics: true, topicPartitions: 3, topicReplicationFactor: 1 },
    { id: 'in', z: 'tab1', type: 'genesys-webhook-in', path: '/hook', ack: 'delivery', output: 'request', ackTimeout: 8, settlements: 1,
      maxUnsettled: 10000, audience: AUD, issuer: 'genesys-cloud', clockTolerance: 5, wires: [['b-dedup']] },
    { id: 'b-dedup', z: 'tab1', type: 'dedup', keyMode: 'auto', window: 300, store: 'redis', redisUrl: redisUrl(), keyPrefix: o.prefix,
      failMode: 'closed', duplicates: 'drop', settleCount: 1, wires: [['b-norm'], [], ['b-dlq']] },
    { id: 'b-norm', z: 'tab1', type: 'normalize', shape: 'auto', wires: [['out'], ['b-dlq']] },
    { id: 'out', z: 'tab1', type: 'kafka-out', broker: 'broker', topic: o.outTopic ?? o.topic, keyProperty: 'key', headersFromMsg: false, lingerMs: 5,
      maxBatchRecords: 500, maxQueued: 10000, retries: 2, deliveryTimeout: 3, flushTimeout: 5, wires: [] },
    { id: 'b-catch', z: 'tab1', type: 'catch', scope: ['out'], uncaught: false, wires: [['b-dlq']] },
    { id: 'b-dlq', z: 'tab1', type: 'dlq', broker: 'broker', topic: o.dlqTopic, retries: 0, retryBaseMs: 100, retryMaxMs: 1000, maxPendingRetries: 100,
      spoolDir: o.spoolDir, spoolMaxMb: 16, spoolAfterMs: 5000, includeStack: false, wires: [['out'], []] },
  ];
}

describe('genesys-webhook-in one message per request → dedup → normalize → kafka-out / dlq', function () {
  this.timeout(90_000);
  const prefix = `${uniqueName('webhook-batch')}:`;
  let spoolDir: string;
  before(async () => {
    await startServer();
    spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-spool-'));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await helper.stopServer();
    fs.rmSync(spoolDir, { recursive: true, force: true });
    const r = new Redis(redisUrl());
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.unlink(...keys);
    r.disconnect();
  });

  it('one request of 100 events: unique ones in the topic, repeats dropped, malformed ones dead-lettered one by one; the retry adds nothing', async () => {
    const topic = uniqueName('batch-out');
    const dlqTopic = uniqueName('batch-dlq');
    await helper.load([webhookInit, dedupNode, normalizeNode, brokerNode, kafkaOutNode, dlqNode, catchNode],
      pipeline({ brokers: kafkaBrokers().join(','), topic, dlqTopic, prefix, spoolDir }), { in: { secret: SECRET } });
    await (helper.getNode('in') as any).ready;
    const messages: any[] = [];
    helper.getNode('out').on('input', (m: any) => messages.push(m));

    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < 95; i++) events.push(pushEvent(`e${i}`, `conv-${i % 7}`));
    events.push(pushEvent('e3', 'conv-3'), pushEvent('e40', 'conv-5')); // repeats inside the request
    const bad1 = pushEvent('bad-1');
    (bad1.data as any).timestamp = 'yesterday';
    const bad2 = pushEvent('bad-2');
    (bad2.data as any).type = 'carrier-pigeon';
    events.push(bad1, pushEvent('e95'), bad2);
    assert.equal(events.length, 100);

    const first = await post(`${helper.url()}/hook`, JSON.stringify(events), jsonHeaders(token()));
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(JSON.parse(first.body), { accepted: 100 });
    assert.equal(messages.length, 1, 'kafka-out got the request as one message');
    assert.equal(messages[0].payload.length, 96);
    assert.deepEqual(messages[0].keys, messages[0].payload.map((e: any) => e.conversation_id), 'keys stay aligned with the events');

    const records = await readBack(kafkaBrokers(), [topic], 96, 20_000);
    const ids = records.map((r) => JSON.parse(String(r.value)).event_id as string);
    assert.deepEqual([...ids].sort(), Array.from({ length: 96 }, (_, i) => `e${i}`).sort(), 'each unique event once');
    for (const r of records) assert.equal(String(r.key), JSON.parse(String(r.value)).conversation_id, 'keyed by conversation');

    const dead = await readBack(kafkaBrokers(), [dlqTopic], 2, 20_000);
    assert.equal(dead.length, 2, 'one dead letter per malformed event');
    const deadIds = dead.map((r) => JSON.parse(String(r.value)).metadata.eventId).sort();
    assert.deepEqual(deadIds, ['bad-1', 'bad-2']);
    for (const d of dead) {
      const headers = Object.fromEntries(Object.entries(d.headers ?? {}).map(([k, v]) => [k, String(v)]));
      assert.equal(headers['dlq.reason'] ?? headers['x-dlq-reason'] ?? Object.entries(headers).find(([k]) => /reason/i.test(k))?.[1], 'validation');
    }

    // The sender's retry of the whole request: every event is now a duplicate of a stored (or
    // dead-lettered) one... except the malformed two, which fail again and are dead-lettered again.
    const retry = await post(`${helper.url()}/hook`, JSON.stringify(events), jsonHeaders(token()));
    assert.equal(retry.status, 200);
    assert.equal(messages.length, 1, 'nothing new reached kafka-out');
    const after = await readBack(kafkaBrokers(), [topic], 96, 3000, 1000);
    assert.equal(after.length, 96);
  });

  it('kafka-out cannot store a batch: the failed events reach the dlq as single dead letters, the request is answered only then', async () => {
    const topic = uniqueName('batch-out');
    const dlqTopic = uniqueName('batch-dlq');
    // A topic name Kafka refuses: every record fails for good.
    await helper.load([webhookInit, dedupNode, normalizeNode, brokerNode, kafkaOutNode, dlqNode, catchNode],
      pipeline({ brokers: kafkaBrokers().join(','), topic, dlqTopic, prefix: `${prefix}k:`, spoolDir, outTopic: 'bad topic name!' }), { in: { secret: SECRET } });
    await (helper.getNode('in') as any).ready;
    const events = Array.from({ length: 10 }, (_, i) => pushEvent(`k${i}`));
    const answer = await post(`${helper.url()}/hook`, JSON.stringify(events), jsonHeaders(token()));
    assert.equal(answer.status, 200, answer.body);
    const dead = await readBack(kafkaBrokers(), [dlqTopic], 10, 20_000);
    assert.deepEqual(dead.map((r) => JSON.parse(String(r.value)).event_id).sort(), events.map((e: any) => e.metadata.eventId).sort(),
      'one dead letter per event (normalized), none lost');
  });
});
