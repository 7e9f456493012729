// Nothing is acknowledged to the sender that could still be lost, with dedup in the path:
// webhook-in (after delivery) → dedup (Redis) → normalize → kafka-out → a real Kafka that we stop.
// While Kafka is down a retry of an event whose first copy sits unacknowledged in kafka-out's memory
// must not be answered 200 as a "duplicate", in one instance or across two sharing Redis.
import { strict as assert } from 'node:assert';
import { Redis } from 'ioredis';
import { KafkaServer } from '../../harness/kafka';
import { redisUrl, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import { helper, jsonHeaders, post, startServer, tab, webhookInit, type Answer } from './node-support';
import { AUD, SECRET, sleep, token } from './support';

const dedupNode = require('../../nodes/dedup/dedup');
const normalizeNode = require('../../nodes/normalize/normalize');
const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');

const ACK_TIMEOUT_S = 1.5;

/** Two "instances" (A on /hook-a, B on /hook-b): their own webhook-in, dedup store and kafka-out, one Redis window. */
function pipeline(brokers: string, topic: string, prefix: string): any[] {
  const nodes: any[] = [
    tab,
    { id: 'broker', type: 'kafka-broker', name: 'k', brokers, clientId: 'webhook-dedup-e2e', connectionTimeout: 1000, requestTimeout: 5000,
      autoCreateTopics: true, topicPartitions: 1, topicReplicationFactor: 1 },
  ];
  for (const i of ['a', 'b']) {
    nodes.push(
      { id: `in-${i}`, z: 'tab1', type: 'genesys-webhook-in', path: `/hook-${i}`, ack: 'delivery', ackTimeout: ACK_TIMEOUT_S, settlements: 1,
        maxUnsettled: 10000, audience: AUD, issuer: 'genesys-cloud', clockTolerance: 5, wires: [[`dedup-${i}`]] },
      { id: `dedup-${i}`, z: 'tab1', type: 'dedup', keyMode: 'auto', window: 300, store: 'redis', redisUrl: redisUrl(), keyPrefix: prefix,
        failMode: 'closed', duplicates: 'drop', settleCount: 1, wires: [[`norm-${i}`], [], []] },
      { id: `norm-${i}`, z: 'tab1', type: 'normalize', shape: 'auto', wires: [[`out-${i}`], []] },
      { id: `out-${i}`, z: 'tab1', type: 'kafka-out', broker: 'broker', topic, keyProperty: 'key', headersFromMsg: false, lingerMs: 5,
        maxBatchRecords: 500, maxQueued: 10000, retries: 100, deliveryTimeout: 120, flushTimeout: 5, wires: [] },
    );
  }
  return nodes;
}

/** A guide 000 push notification for conversation c, event id id. */
function pushEvent(id: string): Record<string, unknown> {
  return {
    data: { conversationId: `conv-${id}`, type: 'voice', state: 'connected', direction: 'inbound', timestamp: new Date().toISOString(), queue: { id: 'q-1', name: 'Sales' } },
    metadata: { eventId: id, sequence: 1 },
  };
}

describe('genesys-webhook-in → dedup (Redis) → normalize → kafka-out, Kafka stopped', function () {
  this.timeout(120_000);
  let kafka: KafkaServer;
  const prefix = `${uniqueName('webhook-dedup')}:`;
  before(async () => {
    await startServer();
    kafka = await new KafkaServer().start();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await kafka?.destroy();
    const r = new Redis(redisUrl());
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.unlink(...keys);
    r.disconnect();
  });

  it('a retry of an event still unacknowledged in kafka-out gets 503, not 200, until Kafka has it; then the event is in the topic', async () => {
    const topic = uniqueName('webhook-dedup');
    await helper.load([webhookInit, dedupNode, normalizeNode, brokerNode, kafkaOutNode], pipeline(kafka.brokers, topic, prefix),
      { 'in-a': { secret: SECRET }, 'in-b': { secret: SECRET } });
    await Promise.all([(helper.getNode('in-a') as any).ready, (helper.getNode('in-b') as any).ready]);
    const url = (i: 'a' | 'b') => `${helper.url()}/hook-${i}`;
    const send = (i: 'a' | 'b', id: string): Promise<Answer> => post(url(i), JSON.stringify(pushEvent(id)), jsonHeaders(token()));
    const reachedKafkaOut = { a: [] as string[], b: [] as string[] };
    for (const i of ['a', 'b'] as const) helper.getNode(`out-${i}`).on('input', (m: any) => reachedKafkaOut[i].push(m.payload.event_id));
    /** Resends until 200 (the sender's retry policy), bounded. */
    const deliver = async (i: 'a' | 'b', id: string): Promise<number> => {
      for (let attempt = 1; attempt <= 30; attempt++) {
        if ((await send(i, id)).status === 200) return attempt;
        await sleep(200);
      }
      throw new Error(`${id} never acknowledged`);
    };

    // Kafka up: the pipeline works (the first request may also wait for the topic to be created).
    await deliver('a', 'W');

    await kafka.stop();
    // One instance: E's first copy is stuck in kafka-out; the sender's retry must not be told "done".
    assert.equal((await send('a', 'E')).status, 503);
    const retry = await send('a', 'E');
    assert.equal(retry.status, 503, 'the retry of an event that is not in Kafka is not acknowledged as a duplicate');
    assert.ok(Number(retry.headers['retry-after']) >= 1);
    // Two instances: the retry reaches B while A still holds the original (A could crash now).
    const [atA, atB] = await Promise.all([send('a', 'F'), sleep(100).then(() => send('b', 'F'))]);
    assert.equal(atA.status, 503);
    assert.equal(atB.status, 503, 'B does not acknowledge a retry whose original is unsettled at A');
    // ...and after A's request failed, B's next retry is not a duplicate either.
    assert.equal((await send('b', 'F')).status, 503);
    assert.ok(reachedKafkaOut.a.filter((id) => id === 'E').length === 2, 'both copies of E went on to kafka-out');

    await kafka.launch();
    await deliver('a', 'E');
    await deliver('b', 'F');

    // Now stored: a further redelivery is answered at once as a duplicate and goes no further.
    const before = reachedKafkaOut.b.length;
    const t0 = Date.now();
    assert.equal((await send('b', 'E')).status, 200);
    assert.ok(Date.now() - t0 < 1000, 'a duplicate of a stored event is acknowledged without waiting');
    assert.equal(reachedKafkaOut.b.length, before, 'dropped by dedup');

    const records = await readBack([kafka.brokers], [topic], null, 30_000, 2000);
    const ids = records.map((r) => JSON.parse(String(r.value)).event_id as string);
    for (const id of ['W', 'E', 'F']) assert.ok(ids.includes(id), `${id} is in the topic`);
    // Copies that were held in kafka-out while Kafka was down are written too: at-least-once, consumers key on event_id.
    console.log(`      topic: ${ids.length} records for ${new Set(ids).size} events (${ids.filter((i) => i === 'E').length}× E, ${ids.filter((i) => i === 'F').length}× F)`);
  });
});
