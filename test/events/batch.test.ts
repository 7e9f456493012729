// Event batches (lib/events/batch.ts), their settlement, and the round batching of dedup claims.
import { strict as assert } from 'node:assert';
import { eventView, isEventBatch, splitBatch, subsetOf, type EventBatchMessage } from '../../lib/events/batch';
import { TickBatch } from '../../lib/events/dedup/tick-batch';
import { sortBatch } from '../../lib/events/dedup/batch-sort';
import { DUPLICATE, DUPLICATE_PENDING, UNIQUE } from '../../lib/events/dedup';
import { DeliveryTracker } from '../../lib/ingest/delivery-tracker';

const batch = (): EventBatchMessage => ({
  _msgid: 'm1', topic: 't', payload: [{ n: 0 }, { n: 1 }, { n: 2 }], keys: ['k0', undefined, 'k2'],
  genesys: { source: 'webhook', receivedAt: '2026-01-01T00:00:00.000Z', batch: true, deliveryId: 'd1.b', topicNames: ['a', undefined, 'c'] },
});

describe('event batches', () => {
  it('only an array payload flagged genesys.batch is a batch (an array is otherwise one value)', () => {
    assert.equal(isEventBatch(batch()), true);
    assert.equal(isEventBatch({ payload: [1, 2] }), false);
    assert.equal(isEventBatch({ payload: {}, genesys: { batch: true } }), false);
    assert.equal(isEventBatch(null), false);
  });

  it('subsetOf keeps payload, keys and topic names aligned and leaves the original alone', () => {
    const m = batch();
    const s = subsetOf(m, [2, 0]);
    assert.deepEqual(s.payload, [{ n: 2 }, { n: 0 }]);
    assert.deepEqual(s.keys, ['k2', 'k0']);
    assert.deepEqual(s.genesys.topicNames, ['c', 'a']);
    assert.equal(s._msgid, 'm1');
    assert.equal(m.payload.length, 3);
    assert.deepEqual(subsetOf(m, [1], ['replaced']).payload, ['replaced']);
  });

  it('splitBatch gives ordinary messages of the same delivery; eventView is what per-event logic reads', () => {
    const parts = splitBatch(batch());
    assert.equal(parts.length, 3);
    assert.deepEqual(parts[0], { _msgid: 'm1', topic: 't', payload: { n: 0 }, key: 'k0',
      genesys: { source: 'webhook', receivedAt: '2026-01-01T00:00:00.000Z', deliveryId: 'd1.b', topicName: 'a' } });
    assert.equal('key' in parts[1], false);
    assert.equal(isEventBatch(parts[2]), false);
    const v = eventView(batch(), 2);
    assert.deepEqual([v.payload, v.key, v.genesys.topicName], [{ n: 2 }, 'k2', 'c']);
  });

  it('settling a batch message settles one event per element; its split parts one each', async () => {
    const t = new DeliveryTracker();
    const { ids, result } = t.open(5, 5000);
    const id = `${ids[0].slice(0, ids[0].lastIndexOf('.'))}.b`;
    const m = { payload: [1, 2, 3], genesys: { batch: true, deliveryId: id } };
    t.settle(m, 'stored');
    assert.equal(t.unsettled, 2);
    t.settle({ payload: 4, genesys: { deliveryId: id } }, 'dead-lettered');
    t.settle({ payload: [9, 9, 9], genesys: { batch: true, deliveryId: id } }, 'duplicate'); // never more than remain
    const r = await result;
    assert.equal(r.ok, true);
    assert.deepEqual(r.outcomes, { stored: 3, 'dead-lettered': 1, duplicate: 1 });
    assert.equal(t.unsettled, 0);
  });
});

describe('TickBatch', () => {
  it('runs the calls of one event-loop round together, answers each in order, splits at maxItems', async () => {
    const runs: number[][] = [];
    const b = new TickBatch<number, number>(async (items) => { runs.push(items); return items.map((i) => i * 10); }, 4);
    const single = b.add(1);
    const many = b.addMany([2, 3]);
    const more = b.addMany([4, 5, 6]);
    assert.deepEqual(await Promise.all([single, many, more]), [10, [20, 30], [40, 50, 60]]);
    // A group is never split: [1] [2,3] go together (3 ≤ 4); [4,5,6] would pass 4, so it goes alone.
    assert.deepEqual(runs, [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(await b.addMany([]), []);
  });

  it('a failed run or a wrong number of answers rejects every caller of that run', async () => {
    const failing = new TickBatch<number, number>(async () => { throw new Error('down'); });
    await assert.rejects(Promise.all([failing.add(1), failing.add(2)]), /down/);
    const short = new TickBatch<number, number>(async () => [1]);
    const results = await Promise.allSettled([short.add(1), short.add(2)]);
    assert.ok(results.every((r) => r.status === 'rejected' && /1 results for 2 items/.test(String(r.reason))));
    const throwing = new TickBatch<number, number>(() => { throw new Error('sync'); });
    await assert.rejects(throwing.add(1), /sync/);
  });
});

describe('dedup: sorting an event batch by its claims', () => {
  it('first sights go on; a repeat in the same batch or of a stored event is a duplicate; no key and a failed claim fail apart', () => {
    const pendingBy = new Map<string, string>();
    // a: first sight; a again: pending from this same batch; b: stored elsewhere; c: pending in another delivery;
    // no key; d: Redis error; e: decided locally (fail-open).
    const keys = ['a', 'a', 'b', 'c', undefined, 'd', 'e'];
    const answers = [UNIQUE, DUPLICATE_PENDING, DUPLICATE, DUPLICATE_PENDING, { outcome: 'error' as const, error: new Error('down') }, { outcome: 'unique' as const, degraded: true }];
    pendingBy.set('c', 'other-delivery');
    const r = sortBatch(keys, answers, 'this-delivery', pendingBy);
    assert.deepEqual(r.unique, [0, 3, 6]);
    assert.deepEqual(r.duplicate, [1, 2]);
    assert.deepEqual(r.failed, [5], 'the claim Redis could not decide');
    assert.deepEqual(r.noKey, [4], 'the event without a key');
    assert.deepEqual(r.owned, ['a', 'e'], 'c passes (its first copy may still be lost) but its claim is not this batch\'s');
    assert.equal(pendingBy.get('a'), 'this-delivery');
    assert.equal(pendingBy.get('c'), 'other-delivery');
    assert.equal(r.degraded, true);
    assert.equal(r.error?.message, 'down');
  });

  it('without a delivery (a source that waits for no ack) every repeat is a duplicate and nothing is owned', () => {
    const r = sortBatch(['a', 'b'], [UNIQUE, DUPLICATE_PENDING], undefined, new Map());
    assert.deepEqual([r.unique, r.duplicate, r.owned], [[0], [1], []]);
  });
});
