// The dedup window in front of the ingest queue (guide 003: "a replay does not send twice"), on a
// DedupStore from lib/events/dedup (memory LRU, or Redis SET NX PX shared by several instances).
// Guide 003 claims the key before it knows whether the event is valid or gets sent; a replay of an
// event that failed would then be dropped as a duplicate and lost. Here a key is given back when its
// event fails, and a repeat that arrives while the first copy is still queued shares its outcome.
import { LRUCache } from 'lru-cache';
import type { DedupStore } from '../../events/dedup';
import { IngestError, type EventOutcome } from './types';

export interface IngestDedupOptions {
  windowMs: number;
  /** Bound of the local "given back" set (default 100 000). */
  maxEntries?: number;
  /** The Redis store's key prefix, to delete a given-back key there too. */
  keyPrefix?: string;
}

type Releasable = DedupStore & { release?(key: string): Promise<unknown>; redis?: { del(key: string): Promise<unknown> } };

export class IngestDedup {
  /** Repeats absorbed (answered from the window or joined to an in-flight copy). */
  duplicates = 0;
  private readonly inflight = new Map<string, Promise<EventOutcome>>();
  /** Keys whose event failed: their claim still sits in the store, but a replay must pass. */
  private readonly released: LRUCache<string, true>;

  constructor(readonly store: DedupStore, private readonly opts: IngestDedupOptions) {
    this.released = new LRUCache({ max: Math.max(1, opts.maxEntries ?? 100_000), ttl: Math.max(1, opts.windowMs) });
  }

  /** Calls send() for the first copy of key within the window; a repeat gets a duplicate outcome (or the in-flight copy's failure). */
  run(key: string, send: () => Promise<EventOutcome>): Promise<EventOutcome> {
    const first = this.inflight.get(key);
    if (first) {
      this.duplicates++;
      return first.then((o) => (o.ok ? { ok: true, duplicate: true, batchId: o.batchId } : o));
    }
    const p = this.admit(key, send);
    this.inflight.set(key, p);
    const clear = (): void => { if (this.inflight.get(key) === p) this.inflight.delete(key); };
    p.then(clear, clear);
    return p;
  }

  private async admit(key: string, send: () => Promise<EventOutcome>): Promise<EventOutcome> {
    let claim;
    try {
      claim = await this.store.claim(key);
    } catch (err) {
      claim = { outcome: 'error' as const, error: err as Error };
    }
    if (claim.outcome === 'error') {
      return { ok: false, error: new IngestError(`dedup store unavailable, event not sent: ${claim.error?.message ?? 'unknown error'}`, 'unavailable') };
    }
    if (claim.outcome === 'duplicate' && !this.released.delete(key)) {
      this.duplicates++;
      return { ok: true, duplicate: true };
    }
    const outcome = await send();
    if (!outcome.ok) await this.release(key);
    return outcome;
  }

  /** Gives a key back: this instance lets the next copy through; a shared Redis window forgets it. */
  private async release(key: string): Promise<void> {
    this.released.set(key, true);
    const s = this.store as Releasable;
    try {
      if (typeof s.release === 'function') await s.release(key);
      else if (s.kind === 'redis' && s.redis) await s.redis.del((this.opts.keyPrefix ?? '') + key);
    } catch {
      // Redis unreachable: this instance still lets the replay through; another instance may not (documented).
    }
  }

  close(): Promise<void> {
    this.inflight.clear();
    this.released.clear();
    return this.store.close();
  }
}
