import { strict as assert } from 'node:assert';
import { IngestBatcher, splitBatch } from '../../lib/genesys/ingest/batcher';
import { bodyBytes, type QueuedEvent } from '../../lib/genesys/ingest/types';
import { sampleEvent } from './support';

function queued(bytes: number, at = 0): QueuedEvent {
  return { event: sampleEvent(), bytes, enqueuedAt: at, settle: () => undefined };
}

describe('ingest batcher', () => {
  it('cuts a batch when the body reaches the budget, never above it; a lone oversize event goes alone', () => {
    let now = 0;
    const b = new IngestBatcher({ budgetBytes: 1000, lingerMs: 100, now: () => now });
    for (let i = 0; i < 5; i++) b.add(queued(150));
    assert.equal(b.next(), undefined, 'below budget, linger not over');
    assert.equal(b.msUntilDue(), 100);
    for (let i = 0; i < 5; i++) b.add(queued(150));
    const first = b.next()!;
    assert.equal(first.items.length, 6); // 13 + 6×150 + 5 = 918; a 7th would make 1069
    assert.equal(first.bytes, bodyBytes(900, 6));
    assert.equal(b.next(), undefined);
    now = 100;
    assert.equal(b.next()!.items.length, 4, 'the rest after the linger time');
    b.add(queued(5000, now));
    assert.equal(b.next(true)!.items.length, 1);
    assert.equal(b.size, 0);
  });

  it('split halves by bytes; requeued batches go first; a 413 lowers the budget', () => {
    const b = new IngestBatcher({ budgetBytes: 100_000, lingerMs: 0 });
    const batch = { id: 'b', items: [queued(900), queued(100), queued(100), queued(100)], bytes: bodyBytes(1200, 4) };
    const [h1, h2] = splitBatch(batch);
    assert.deepEqual([h1.items.length, h2.items.length], [1, 3]);
    assert.equal(h1.id, 'b.1');
    assert.equal(h2.parentId, 'b');
    assert.equal(h1.bytes + h2.bytes, batch.bytes - 1 + 13, 'the halves carry every byte (one comma less, one envelope more)');
    b.add(queued(10));
    b.requeueFront([h1, h2]);
    assert.equal(b.size, 5);
    assert.equal(b.next()!.id, 'b.1');
    assert.equal(b.next()!.id, 'b.2');
    assert.equal(b.next()!.items[0].bytes, 10);
    assert.equal(b.learnLimit(40_000), true);
    assert.equal(b.budget, 20_000);
    assert.equal(b.learnLimit(60_000), false, 'never raised by a larger 413');
    assert.equal(b.drain().length, 0);
  });
});
