// Optional topic creation: a cluster that refuses is a configuration error; a cluster that cannot be
// reached is an outage, so the record goes on to the producer (which holds it like any other).
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { ensureTopics, TopicCreationError } from '../../lib/kafka/admin';
import type { ProducerHandle } from '../../lib/kafka/producer';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';
import { TopicCreator } from '../../lib/kafka/topic-creator';
import { kafkaBrokers } from '../fixtures/env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordingHandle(): { handle: ProducerHandle; sent: string[] } {
  const sent: string[] = [];
  const handle = {
    send: async (r: OutgoingRecord) => { sent.push(r.topic); return { topic: r.topic, partition: 0, offset: '0' }; },
    flush: async () => undefined,
    status: () => 'connected',
    on() { return this; },
    off() { return this; },
  } as unknown as ProducerHandle;
  return { handle, sent };
}
const record = (topic: string) => ({ topic, key: 'k', value: 'v' }) as unknown as OutgoingRecord;

describe('kafka: topic creation', () => {
  it('a refusal fails the record as a configuration error, remembered for a while (one admin call)', async () => {
    let calls = 0;
    const creator = new TopicCreator(async () => { calls++; throw new TopicCreationError('topic creation failed: t: replication factor 3 larger than 1 broker', true); }, 60_000);
    const { handle, sent } = recordingHandle();
    const out = creator.wrap(handle);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(out.send(record('t')), (e: any) => e.configError === true && /Kafka configuration: topic creation failed/.test(e.message) && e.topic === 't');
    }
    assert.equal(calls, 1);
    assert.deepEqual(sent, []);
  });

  it('an unreachable cluster passes the records on to the producer and tries again after a short pause', async () => {
    let calls = 0;
    let up = false;
    const creator = new TopicCreator(async () => { calls++; if (!up) throw new TopicCreationError('topic creation failed: Connection error: connect ECONNREFUSED', false); }, 60_000, 50);
    const { handle, sent } = recordingHandle();
    const out = creator.wrap(handle);
    await out.send(record('t'));
    await out.send(record('t'));
    assert.equal(calls, 1, 'one attempt per pause, not one per record');
    assert.deepEqual(sent, ['t', 't']);
    up = true;
    await sleep(80);
    await out.send(record('t'));
    await out.send(record('t'));
    assert.equal(calls, 2, 'tried again after the pause, then remembered as created');
  });

  it('ensureTopics tells a closed port (unreachable) from a broker refusal', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const settings = (brokers: string[]) => ({ brokers, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 }) as any;
    await assert.rejects(ensureTopics(settings([`127.0.0.1:${port}`]), [{ topic: 'never', partitions: 1, replicationFactor: 1 }]),
      (e: any) => e instanceof TopicCreationError && e.refusedByCluster === false);
    await assert.rejects(ensureTopics(settings(kafkaBrokers()), [{ topic: `rf3-${Date.now()}`, partitions: 1, replicationFactor: 3 }]),
      (e: any) => e instanceof TopicCreationError && e.refusedByCluster === true && /replication/i.test(e.message));
  });
});
