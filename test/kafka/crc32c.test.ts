// kafkajs' CRC32C swapped for @node-rs/crc32 (lib/kafka/crc32c.ts): in effect when loaded before
// kafkajs, a no-op after it, and the broker accepts what it checksums (CRC is verified on produce).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from './kafka-util';

const root = path.resolve(__dirname, '..', '..');

/** Runs code in a fresh Node process (an empty module cache) and returns what it printed. */
function fresh(code: string): string {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', code], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('kafka: native CRC32C for kafkajs', function () {
  this.timeout(60_000);

  it('loaded before kafkajs, record batches are checksummed by the native function', () => {
    const out = fresh(`
      const { crc32cImplementation } = require('./lib/kafka/crc32c');
      require('kafkajs');
      const used = require('kafkajs/src/protocol/recordBatch/crc32C');
      const js = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js');
      const b = Buffer.from('the quick brown fox'.repeat(50));
      console.log(JSON.stringify({ impl: crc32cImplementation, same: used(b) === js(b) >>> 0, swapped: used !== js }));`);
    assert.deepEqual(JSON.parse(out), { impl: 'native', same: true, swapped: true });
  });

  it('loaded after kafkajs built a record batch, it leaves kafkajs its own (no half-swapped state)', () => {
    const out = fresh(`
      require('kafkajs');
      require('kafkajs/src/protocol/recordBatch/v0'); // what the first produce loads
      const { crc32cImplementation } = require('./lib/kafka/crc32c');
      console.log(crc32cImplementation);`);
    assert.equal(out, 'kafkajs');
  });

  it('the broker accepts batches checksummed natively (it verifies each batch CRC)', async () => {
    const topic = uniqueName('crc32c');
    // A process of its own, so the swap is certain to be in effect whatever ran before in this one.
    const out = fresh(`
      const { KafkaJsSink } = require('./lib/kafka/kafkajs-sink');
      const sink = new KafkaJsSink({ brokers: ${JSON.stringify(kafkaBrokers())}, clientId: 'test-crc', connectionTimeoutMs: 3000, requestTimeoutMs: 10000 });
      const records = Array.from({ length: 50 }, (_, i) => ({ topic: ${JSON.stringify(topic)}, key: 'k' + (i % 7), value: JSON.stringify({ i, pad: 'é'.repeat(i * 20) }) }));
      sink.send(records).then(() => sink.disconnect()).then(() => console.log(sink.describe().crc32c), (e) => { console.error(e); process.exit(1); });`);
    assert.equal(out, 'native');
    const got = await readBack(kafkaBrokers(), [topic], 50);
    assert.deepEqual(got.map((r) => JSON.parse(String(r.value)).i).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  });
});
