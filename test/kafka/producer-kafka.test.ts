import { strict as assert } from 'node:assert';
import { createSharedProducer, type SharedProducer } from '../../lib/kafka/producer';
import { DEFAULT_CONNECTION_TIMEOUT_MS, type KafkaClientSettings } from '../../lib/kafka/config';
import { KafkaJsSink } from '../../lib/kafka/kafkajs-sink';
import { lz4Available } from '../../lib/kafka/codecs';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack, valuesByKey } from './kafka-util';

export function settingsFor(brokers: string[], extra: Partial<KafkaClientSettings> = {}): KafkaClientSettings {
  return { brokers, clientId: 'test', connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS, requestTimeoutMs: 10_000, ...extra };
}

describe('kafka producer (real broker)', function () {
  this.timeout(60_000);
  let producer: SharedProducer | null = null;
  afterEach(async () => { await producer?.release('u1', 2000); await producer?.release('u2', 2000); producer = null; });

  it('writes key, value and headers that a consumer reads back, with the offsets it reported', async () => {
    const topic = uniqueName('kout-basic');
    producer = createSharedProducer(settingsFor(kafkaBrokers()));
    const h = producer.acquire('u1', { lingerMs: 5 });
    const metas = await Promise.all([
      h.send({ topic, key: 'conv-1', value: JSON.stringify({ a: 1 }), headers: { source: 'webhook', bin: Buffer.from([1, 2]) } }),
      h.send({ topic, key: 'conv-1', value: '' }),
      h.send({ topic, key: null, value: Buffer.from('raw') }),
    ]);
    assert.equal(producer.state, 'connected');
    const read = await readBack(kafkaBrokers(), [topic], 3);
    assert.equal(read.length, 3);
    const first = read.find((r) => r.value === '{"a":1}')!;
    assert.equal(first.key, 'conv-1');
    assert.equal(first.headers.source, 'webhook');
    assert.equal(first.headers.bin, Buffer.from([1, 2]).toString());
    assert.ok(read.some((r) => r.key === 'conv-1' && r.value === ''), 'empty string value kept');
    assert.ok(read.some((r) => r.key === null && r.value === 'raw'));
    for (const m of metas) {
      const r = read.find((x) => x.partition === m.partition && x.offset === m.offset);
      assert.ok(r, `record at ${m.partition}/${m.offset} exists`);
    }
    // Idempotent producer: the broker stored a producer id with every batch (-1 when not idempotent).
    assert.ok(read.every((r) => /^\d+$/.test(r.producerId) && r.producerId !== '-1'), `producer ids: ${read.map((r) => r.producerId)}`);
  });

  it('the kafkajs sink is idempotent, acks=all, at most 5 in flight', () => {
    const d = new KafkaJsSink(settingsFor(kafkaBrokers())).describe();
    assert.equal(d.idempotent, true);
    assert.equal(d.acks, 'all');
    assert.ok((d.maxInFlightRequests as number) <= 5);
  });

  it('keeps per-key order across 10,000 records with several keys (gzip)', async () => {
    const topic = uniqueName('kout-order');
    producer = createSharedProducer(settingsFor(kafkaBrokers()));
    const h = producer.acquire('u1', { lingerMs: 5, maxBatchRecords: 1000, maxQueued: 5000, compression: 'gzip' });
    const keys = Array.from({ length: 7 }, (_, i) => `conv-${i}`);
    const n = 10_000;
    const t0 = Date.now();
    const acks = [];
    for (let i = 0; i < n; i++) {
      const key = keys[i % keys.length];
      acks.push(h.send({ topic, key, value: `${key}:${Math.floor(i / keys.length)}` }));
    }
    await Promise.all(acks);
    const ms = Date.now() - t0;
    console.log(`      [figure] 10,000 records acked in ${ms} ms = ${Math.round(n / (ms / 1000))} records/s (gzip, linger 5 ms, batch 1000)`);
    const read = await readBack(kafkaBrokers(), [topic], n, 30_000);
    assert.equal(read.length, n);
    const byKey = valuesByKey(read);
    for (const key of keys) {
      const values = byKey.get(key)!;
      const seq = values.map((v) => Number(v.split(':')[1]));
      assert.deepEqual(seq, seq.slice().sort((a, b) => a - b), `order of ${key}`);
      assert.equal(new Set(seq).size, seq.length, `no duplicates for ${key}`);
    }
  });

  it('lz4 (pure JS, independent-block frames) and gzip batches are accepted by the broker and read back', async () => {
    assert.equal(lz4Available(), true, 'lz4js is installed (optional dependency)');
    producer = createSharedProducer(settingsFor(kafkaBrokers()));
    for (const compression of ['lz4', 'gzip']) {
      const topic = uniqueName(`kout-${compression}`);
      const h = producer.acquire(compression === 'lz4' ? 'u1' : 'u2', { compression, lingerMs: 5 });
      const values = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, text: 'conversation state changed '.repeat(10) }));
      await Promise.all(values.map((value, i) => h.send({ topic, key: `c${i % 4}`, value })));
      const read = await readBack(kafkaBrokers(), [topic], values.length);
      assert.deepEqual(read.map((r) => r.value).sort(), [...values].sort(), compression);
    }
  });

  it('shares one connection between users and disconnects after the last one', async () => {
    const topic = uniqueName('kout-shared');
    producer = createSharedProducer(settingsFor(kafkaBrokers()));
    const a = producer.acquire('u1');
    const b = producer.acquire('u2', { compression: 'gzip' });
    await Promise.all([a.send({ topic, key: 'k', value: 'a' }), b.send({ topic, key: 'k', value: 'b' })]);
    assert.equal(producer.users, 2);
    await producer.release('u1');
    assert.equal(producer.state, 'connected');
    await producer.release('u2');
    assert.equal(producer.state, 'idle');
    producer = null;
  });
});
