import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SharedProducer } from '../../lib/kafka/producer';
import { KafkaJsSink } from '../../lib/kafka/kafkajs-sink';
import { DeadLetterSpool } from '../../lib/kafka/spool';
import { decodeSpoolLine } from '../../lib/kafka/spool-format';
import { DeadLetterWriter, type DeadLetterProducer } from '../../lib/kafka/dlq-writer';
import { buildDeadLetter } from '../../lib/kafka/dlq-record';
import { classifyFailure } from '../../lib/kafka/retry-classification';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { waitFor } from './helpers';

const history = { attempts: 1, firstFailure: new Date().toISOString(), lastFailure: new Date().toISOString() };
const deadLetter = (topic: string, i: number, payload: unknown = { i }): OutgoingRecord =>
  buildDeadLetter({ payload, key: 'conv-order' }, classifyFailure(Object.assign(new Error('HTTP 503'), { status: 503 })), history, { topic }).record;

function producerFor(brokers: string[]): { producer: SharedProducer; handle: DeadLetterProducer } {
  const producer = new SharedProducer(new KafkaJsSink({ brokers, clientId: 'dlq-writer-test', connectionTimeoutMs: 1000, requestTimeoutMs: 5000 }),
    { reconnectMinMs: 200, reconnectMaxMs: 1000 });
  const handle = producer.acquire('dlq-writer-test', { lingerMs: 2, retries: 2, retryBackoffMs: 100, deliveryTimeoutMs: 2000 });
  return { producer, handle };
}

describe('dlq writer (Kafka, else fsynced spool, drained in order)', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlq-writer-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('queues behind a non-empty spool and sets aside a record the broker refuses for good', async () => {
    const spool = await DeadLetterSpool.open({ dir });
    const sent: OutgoingRecord[] = [];
    let up = false;
    const producer: DeadLetterProducer = {
      send: async (r) => {
        if (String(r.value).includes('too-large')) {
          throw Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false });
        }
        if (!up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
        sent.push(r);
        return {};
      },
    };
    const writer = new DeadLetterWriter({ producer, spool, spoolAfterMs: 200, drainRetryMinMs: 20, drainRetryMaxMs: 50 });
    try {
      assert.equal(await writer.write(deadLetter('t', 0)), 'spool');
      assert.equal(await writer.write(deadLetter('t', 1, 'too-large')), 'spool');
      up = true;
      assert.equal(await writer.write(deadLetter('t', 2)), 'spool', 'a healthy Kafka must not let a newer dead letter overtake spooled ones');
      await waitFor(() => spool.isEmpty && !spool.isDraining, 5000, 'drain');
      assert.deepEqual(sent.map((r) => String(r.value)), ['{"i":0}', '{"i":2}']);
      const [note, line] = fs.readFileSync(path.join(dir, 'rejected.log'), 'utf8').split('\n');
      assert.match(note, /larger than the max message size/);
      const kept = decodeSpoolLine(line);
      assert.ok(kept.ok && String(kept.record.value) === 'too-large', 'the refused dead letter is kept whole');
      assert.equal(writer.stats().rejected, 1);
      assert.equal(await writer.write(deadLetter('t', 3)), 'kafka', 'direct again once the spool is empty');
    } finally {
      await writer.close();
      await spool.close();
    }
  });

  it('a real broker refuses an oversized dead letter: it goes to rejected.log, nothing blocks', async () => {
    const topic = uniqueName('dlq-large');
    const p = producerFor(kafkaBrokers());
    const spool = await DeadLetterSpool.open({ dir });
    const writer = new DeadLetterWriter({ producer: p.handle, spool, spoolAfterMs: 5000 });
    try {
      assert.equal(await writer.write(deadLetter(topic, 0, { blob: 'x'.repeat(1_200_000) })), 'rejected');
      assert.equal(await writer.write(deadLetter(topic, 1)), 'kafka');
      assert.ok(fs.statSync(path.join(dir, 'rejected.log')).size > 1_200_000);
    } finally {
      await writer.close();
      await spool.close();
      await p.producer.release('dlq-writer-test', 100);
    }
  });
});
