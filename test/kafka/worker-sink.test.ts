// The Kafka client in a worker thread (lib/kafka/worker-sink.ts) against the real broker: records
// cross the thread intact, errors keep their classification, a crashed thread fails its calls as
// retriable connection losses and is started again, disconnect ends the thread.
import { strict as assert } from 'node:assert';
import { KafkaSendError } from '../../lib/kafka/errors';
import { WorkerKafkaSink } from '../../lib/kafka/worker-sink';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from './kafka-util';
import { DEFAULT_CONNECTION_TIMEOUT_MS, type KafkaClientSettings } from '../../lib/kafka/config';

const settingsFor = (brokers: string[], extra: Partial<KafkaClientSettings> = {}): KafkaClientSettings =>
  ({ brokers, clientId: 'test-worker', connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS, requestTimeoutMs: 10_000, ...extra });

describe('kafka client in a worker thread', function () {
  this.timeout(60_000);
  const sinks: WorkerKafkaSink[] = [];
  const open = (brokers = kafkaBrokers(), extra = {}): WorkerKafkaSink => {
    const s = new WorkerKafkaSink(settingsFor(brokers, extra));
    sinks.push(s);
    return s;
  };
  afterEach(async () => { for (const s of sinks.splice(0)) await s.disconnect(); });

  it('strings and Buffers (keys, values, headers) arrive as sent, with the offsets reported', async () => {
    const topic = uniqueName('worker-sink');
    const s = open();
    await s.connect();
    const metas = await s.send([
      { topic, key: 'conv-1', value: '{"a":1}', headers: { source: 'webhook', bin: Buffer.from([104, 105]) } },
      { topic, key: Buffer.from('conv-2'), value: Buffer.from('raw bytes') },
      { topic, key: null, value: null },
    ]);
    assert.equal(metas.length, 3);
    const read = await readBack(kafkaBrokers(), [topic], 3);
    const first = read.find((r) => r.key === 'conv-1')!;
    assert.equal(first.value, '{"a":1}');
    assert.equal(first.headers.bin, 'hi');
    assert.ok(read.some((r) => r.key === 'conv-2' && r.value === 'raw bytes'));
    assert.ok(read.some((r) => r.key === null && r.value === null), 'a tombstone stays a tombstone');
    for (const m of metas) assert.ok(read.some((r) => r.partition === m.partition && r.offset === m.offset));
    assert.equal(s.describe().thread, 'worker');
  });

  it('errors come back classified: an unreachable broker is a retriable connection loss; a bad topic is not retriable', async () => {
    const down = open(['127.0.0.1:1'], { connectionTimeoutMs: 300 });
    const err = await down.connect().then(() => undefined, (e) => e);
    assert.ok(err instanceof KafkaSendError, String(err));
    assert.equal(err.connectionLost, true);
    assert.equal(err.retriable, true);
    const s = open();
    const bad = await s.send([{ topic: 'not a valid topic!', key: null, value: 'x' }]).then(() => undefined, (e) => e);
    assert.ok(bad instanceof KafkaSendError);
    assert.equal(bad.retriable, false);
    assert.match(bad.message, /topic/i);
  });

  it('a thread that dies fails its pending calls as retriable, and the next call starts a new one', async () => {
    const topic = uniqueName('worker-crash');
    const s = open();
    await s.connect();
    const worker = (s as any).worker;
    const pending = s.send([{ topic, key: 'k', value: 'lost?' }]);
    await worker.terminate();
    const err = await pending.then(() => undefined, (e) => e);
    if (err) {
      assert.ok(err instanceof KafkaSendError);
      assert.equal(err.retriable, true, 'the queue will retry it');
      assert.match(err.message, /thread/);
    }
    const metas = await s.send([{ topic, key: 'k', value: 'after restart' }]);
    assert.equal(metas.length, 1);
    assert.notEqual((s as any).worker, worker, 'a new thread');
    await s.disconnect();
    assert.equal((s as any).worker, null, 'disconnect ends the thread');
  });
});
