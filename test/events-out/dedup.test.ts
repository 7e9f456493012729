import { strict as assert } from 'node:assert';
import { createDedupStore } from '../../lib/events/dedup';
import { RedisDedupStore } from '../../lib/events/dedup/redis-store';
import { IngestDedup } from '../../lib/genesys/ingest/dedup';
import { IngestError, type EventOutcome } from '../../lib/genesys/ingest/types';
import { redisUrl, uniqueName } from '../fixtures/env';

const ok = (batchId = 'b1'): EventOutcome => ({ ok: true, batchId });
const failed = (): EventOutcome => ({ ok: false, error: new IngestError('boom', 'unavailable', 503) });

describe('ingest dedup window', () => {
  it('memory: a repeat is a duplicate; a repeat of an event still in flight shares its outcome, failure included', async () => {
    const d = new IngestDedup(createDedupStore({ store: 'memory', windowSeconds: 60, maxEntries: 100 }), { windowMs: 60_000 });
    let sends = 0;
    let finish!: (o: EventOutcome) => void;
    const first = d.run('k', () => { sends++; return new Promise((r) => { finish = r; }); });
    const repeat = d.run('k', async () => { sends++; return ok(); });
    await new Promise((r) => setImmediate(r));
    finish(failed());
    assert.equal((await first).ok, false);
    assert.equal((await repeat).ok, false, 'the repeat was not sent either');
    assert.equal(sends, 1);
    // Given back: the replay is sent, then later copies are duplicates.
    assert.deepEqual(await d.run('k', async () => { sends++; return ok('b2'); }), ok('b2'));
    assert.deepEqual(await d.run('k', async () => { sends++; return ok('b3'); }), { ok: true, duplicate: true });
    assert.equal(sends, 2);
    assert.equal(d.duplicates, 2);
    await d.close();
  });

  it('redis: a failed event\'s key is deleted from the shared window, so another instance can send the replay', async () => {
    const prefix = `${uniqueName('ingest-dedup')}:`;
    const mk = () => {
      const store = createDedupStore({ store: 'redis', windowSeconds: 60, maxEntries: 100, redisUrl: redisUrl(), keyPrefix: prefix }) as RedisDedupStore;
      return { store, dedup: new IngestDedup(store, { windowMs: 60_000, keyPrefix: prefix }) };
    };
    const a = mk();
    const b = mk();
    try {
      await Promise.all([a.store.ready(), b.store.ready()]);
      assert.deepEqual(await a.dedup.run('sent', async () => ok()), ok());
      assert.deepEqual(await b.dedup.run('sent', async () => ok()), { ok: true, duplicate: true });
      assert.equal((await a.dedup.run('lost', async () => failed())).ok, false);
      assert.equal(await a.store.redis.exists(`${prefix}lost`), 0);
      assert.deepEqual(await b.dedup.run('lost', async () => ok('b9')), ok('b9'));
    } finally {
      await a.store.clear();
      await a.dedup.close();
      await b.dedup.close();
    }
  });
});
