// In-process dedup window: an LRU (lru-cache) bounded by entry count and TTL, so memory cannot grow
// without limit. When it is full, the least recently seen key goes first; a duplicate of an evicted
// key then passes again (never a loss), which `prematureEvictions` counts so the node can warn.
import { LRUCache } from 'lru-cache';
import { DUPLICATE, UNIQUE, type ClaimResult, type DedupStore } from './types';

export interface MemoryDedupOptions {
  windowMs: number;
  maxEntries: number;
}

export class MemoryDedupStore implements DedupStore {
  readonly kind = 'memory' as const;
  /** Keys evicted for room while their window was still open. */
  prematureEvictions = 0;
  /**
   * key -> expiry (ms since epoch). A negative expiry marks a key claimed only locally (while Redis
   * was unreachable) that the Redis store still has to write back.
   */
  private readonly cache: LRUCache<string, number>;
  readonly windowMs: number;

  constructor(opts: MemoryDedupOptions) {
    this.windowMs = Math.max(1, Math.round(opts.windowMs));
    this.cache = new LRUCache<string, number>({
      max: Math.max(1, Math.floor(opts.maxEntries)),
      ttl: this.windowMs,
      dispose: (expiry, _key, reason) => {
        if (reason === 'evict' && Math.abs(expiry) > Date.now()) this.prematureEvictions++;
      },
    });
  }

  /** Synchronous claim (the memory store never waits). */
  claimSync(key: string, localOnly = false): boolean {
    if (this.cache.has(key)) return false;
    const expiry = Date.now() + this.windowMs;
    this.cache.set(key, localOnly ? -expiry : expiry);
    return true;
  }

  /** True when key is inside its window here. */
  has(key: string): boolean {
    return this.cache.has(key);
  }

  claim(key: string): Promise<ClaimResult> {
    return Promise.resolve(this.claimSync(key) ? UNIQUE : DUPLICATE);
  }

  /** Keys claimed only locally, with the ms left of their window; marks them as written back. */
  takeLocalOnly(): [string, number][] {
    const now = Date.now();
    const out: [string, number][] = [];
    for (const [key, expiry] of this.cache.entries()) {
      if (expiry < 0 && -expiry > now) out.push([key, -expiry - now]);
    }
    // Keep the keys (still known duplicates here) but no longer local-only; set() after the
    // iteration because it reorders the LRU list.
    for (const [key, left] of out) this.cache.set(key, now + left, { noUpdateTTL: true });
    return out;
  }

  get size(): number {
    return this.cache.size;
  }

  get maxEntries(): number {
    return this.cache.max;
  }

  clear(): void {
    this.cache.clear();
  }

  close(): Promise<void> {
    this.cache.clear();
    return Promise.resolve();
  }
}
