// The dedup window in front of the ingest queue (guide 003: "a replay does not send twice"), on a
// DedupStore from lib/events/dedup (memory LRU, or Redis shared by several instances).
// Guide 003 claims the key before it knows whether the event is valid or gets sent; a replay of an
// event that failed would then be dropped as a duplicate and lost. Here the claim is pending while
// the event is sent, stored once Genesys accepted it, and given back (released) when it failed; a
// repeat that arrives while the first copy is still queued shares its outcome.
import { LRUCache } from 'lru-cache';
import type { DedupStore } from '../../events/dedup';
import { IngestError, type EventOutcome } from './types';

export interface IngestDedupOptions {
  windowMs: number;
  /** Bound of the local "given back" set (default 100 000). */
  maxEntries?: number;
  /** Unused: the store releases keys under its own prefix (kept for existing callers). */
  keyPrefix?: string;
}

export class IngestDedup {
  /** Repeats absorbed (answered from the window or joined to an in-flight copy). */
  duplicates = 0;
  private readonly inflight = new Map<string, Promise<EventOutcome>>();
  /** Keys whose event failed but whose claim the shared store could not forget: a replay must pass. */
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
      claim = await this.store.claim(key, { pending: true });
    } catch (err) {
      claim = { outcome: 'error' as const, error: err as Error };
    }
    if (claim.outcome === 'error') {
      return { ok: false, error: new IngestError(`dedup store unavailable, event not sent: ${claim.error?.message ?? 'unknown error'}`, 'unavailable') };
    }
    // A copy in flight in another instance is a duplicate too: a failure there is reported on that copy.
    const givenBack = this.released.delete(key);
    if (claim.outcome === 'duplicate' && !givenBack) {
      this.duplicates++;
      return { ok: true, duplicate: true };
    }
    const outcome = await send();
    if (outcome.ok) void this.store.promote(key).catch(() => undefined);
    else await this.release(key);
    return outcome;
  }

  /** Gives a key back: the store forgets its pending claim; if the shared store cannot be told, this instance still lets the replay through. */
  private async release(key: string): Promise<void> {
    let forgotten = false;
    try {
      forgotten = await this.store.release(key);
    } catch {
      forgotten = false;
    }
    // Redis unreachable: this instance lets the replay through; another one may not (documented).
    if (!forgotten) this.released.set(key, true);
  }

  close(): Promise<void> {
    this.inflight.clear();
    this.released.clear();
    return this.store.close();
  }
}
