import { strict as assert } from 'node:assert';
import { BatchQueue } from '../../lib/kafka/batch-queue';
import { KafkaSendError } from '../../lib/kafka/errors';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';
import { FakeSink, connectionError, protocolError } from './fake-sink';

const rec = (i: number, topic = 't', key = `k${i % 3}`): OutgoingRecord => ({ topic, key, value: `v${i}` });
const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: true as const, v }), (e: Error) => ({ ok: false as const, e }));

function queue(sink: FakeSink, opts: Partial<ConstructorParameters<typeof BatchQueue>[1]> = {}) {
  return new BatchQueue((r, ) => sink.send(r), { lingerMs: 2, retryBackoffMs: 1, retryBackoffMaxMs: 5, ...opts });
}

describe('kafka batch queue', () => {
  it('sends records in batches of at most maxBatchRecords, one batch in flight, in order', async () => {
    const sink = new FakeSink();
    // A long linger: batches are cut by size here, not by a timer racing a loaded machine.
    const q = queue(sink, { maxBatchRecords: 10, lingerMs: 500 });
    const metas = await Promise.all(Array.from({ length: 25 }, (_, i) => q.enqueue(rec(i))));
    assert.deepEqual(sink.calls.map((c) => c.length), [10, 10, 5]);
    assert.equal(sink.maxInFlight, 1);
    assert.deepEqual(sink.sentRecords.map((r) => r.value), Array.from({ length: 25 }, (_, i) => `v${i}`));
    assert.deepEqual(metas.map((m) => m.offset), Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('cuts batches by bytes too', async () => {
    const sink = new FakeSink();
    const q = queue(sink, { maxBatchBytes: 1000 });
    await Promise.all(Array.from({ length: 4 }, (_, i) => q.enqueue({ topic: 't', key: 'k', value: 'x'.repeat(400 + i) })));
    assert.deepEqual(sink.calls.map((c) => c.length), [2, 2]);
  });

  it('lingers before sending a partial batch', async () => {
    const sink = new FakeSink();
    const q = queue(sink, { lingerMs: 40 });
    const p = q.enqueue(rec(1));
    await new Promise((r) => setTimeout(r, 15));
    assert.equal(sink.calls.length, 0, 'sent before linger ms');
    await p;
    assert.equal(sink.calls.length, 1);
  });

  it('makes callers wait when the queue is full (backpressure) and loses nothing', async () => {
    const sink = new FakeSink();
    const release = sink.hold();
    const q = queue(sink, { maxQueued: 5, maxBatchRecords: 5 });
    let changes = 0;
    q.on('change', () => changes++);
    const all = Array.from({ length: 12 }, (_, i) => q.enqueue(rec(i)));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(q.size, 5);
    assert.equal(q.waiting, 7);
    assert.equal(changes, 1, 'one change when waiting starts');
    release();
    const metas = await Promise.all(all);
    assert.equal(metas.length, 12);
    assert.equal(q.waiting, 0);
    assert.equal(changes, 2, 'one change when waiting ends');
    assert.deepEqual(sink.sentRecords.map((r) => r.value), Array.from({ length: 12 }, (_, i) => `v${i}`));
  });

  it('retries retryable errors with backoff, then succeeds', async () => {
    const sink = new FakeSink();
    sink.sendErrors = [connectionError(), connectionError()];
    const q = queue(sink, { retries: 3 });
    const meta = await q.enqueue(rec(1));
    assert.equal(meta.offset, '0');
    assert.equal(sink.calls.length, 3);
  });

  it('rejects every record with a KafkaSendError naming topic and key after the retry limit', async () => {
    const sink = new FakeSink();
    sink.sendErrors = Array.from({ length: 10 }, () => connectionError());
    const q = queue(sink, { retries: 2 });
    const results = await Promise.all([q.enqueue(rec(1, 'a', 'key-1')), q.enqueue(rec(2, 'a', 'key-2'))].map(settle));
    assert.equal(sink.calls.length, 3);
    for (const [i, r] of results.entries()) {
      assert.equal(r.ok, false);
      const e = (r as unknown as { e: KafkaSendError }).e;
      assert.ok(e instanceof KafkaSendError);
      assert.equal(e.topic, 'a');
      assert.equal(e.key, `key-${i + 1}`);
      assert.equal(e.retriable, true);
      assert.match(e.message, /ECONNREFUSED/);
    }
  });

  it('does not retry a non-retriable error, and one bad topic does not fail the others', async () => {
    const sink = new FakeSink();
    sink.sendErrors = [
      (records: OutgoingRecord[]) => records.some((r) => r.topic === 'bad') ? protocolError('INVALID_TOPIC_EXCEPTION') : null,
      null, // good topic alone
      protocolError('INVALID_TOPIC_EXCEPTION'), // bad topic alone
    ];
    const q = queue(sink, { retries: 5 });
    const [good, bad, good2] = await Promise.all([q.enqueue(rec(1, 'good')), q.enqueue(rec(2, 'bad')), q.enqueue(rec(3, 'good'))].map(settle));
    assert.equal(good.ok, true);
    assert.equal(good2.ok, true);
    assert.equal(bad.ok, false);
    assert.match((bad as { e: Error }).e.message, /INVALID_TOPIC_EXCEPTION/);
    assert.equal(sink.calls.length, 3, 'no retry of the fatal error');
  });

  it('fails records whose delivery timeout passed while retrying', async () => {
    const sink = new FakeSink();
    sink.sendErrors = Array.from({ length: 100 }, () => connectionError());
    const q = queue(sink, { retries: 1000, deliveryTimeoutMs: 60, retryBackoffMs: 10, retryBackoffMaxMs: 10 });
    const t = Date.now();
    const r = await settle(q.enqueue(rec(1)));
    assert.equal(r.ok, false);
    assert.ok(Date.now() - t < 1000);
  });

  it('close flushes within the timeout and fails what is left, reporting counts', async () => {
    const sink = new FakeSink();
    const q = queue(sink, { maxBatchRecords: 2, lingerMs: 1000 });
    const first = Array.from({ length: 2 }, (_, i) => settle(q.enqueue(rec(i))));
    await Promise.all(first);
    sink.hold(); // the broker stops answering
    const rest = Array.from({ length: 5 }, (_, i) => settle(q.enqueue(rec(i + 2))));
    const report = await q.close(50);
    assert.deepEqual(report, { sent: 0, failed: 5, pending: 5 });
    const results = await Promise.all(rest);
    assert.ok(results.every((r) => !r.ok && /closed/.test(r.e.message)));
    const late = await settle(q.enqueue(rec(9)));
    assert.equal(late.ok, false, 'a closed queue refuses records');
  });

  it('flush sends without waiting for linger', async () => {
    const sink = new FakeSink();
    const q = queue(sink, { lingerMs: 10_000 });
    const p = q.enqueue(rec(1));
    const report = await q.flush(1000);
    assert.deepEqual(report, { sent: 1, failed: 0, pending: 0 });
    await p;
  });
});
