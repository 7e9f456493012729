// In-process dedup window: an LRU (lru-cache) bounded by entry count and TTL, so memory cannot grow
// without limit. When it is full, the least recently seen key goes first; a duplicate of an evicted
// key then passes again (never a loss), which `prematureEvictions` counts so the node can warn.
// Each key holds a claim that is pending (its delivery still in flight) or stored (see types.ts).
import { LRUCache } from 'lru-cache';
import { DUPLICATE, DUPLICATE_PENDING, UNIQUE, type ClaimOptions, type ClaimResult, type ClaimState, type DedupStore } from './types';

export interface MemoryDedupOptions {
  windowMs: number;
  maxEntries: number;
}

interface Claim {
  /** ms since epoch when the window of this key ends. */
  expiry: number;
  pending: boolean;
  /** Claimed while Redis was unreachable: the Redis store still has to write it back. */
  localOnly: boolean;
}

export class MemoryDedupStore implements DedupStore {
  readonly kind = 'memory' as const;
  /** Keys evicted for room while their window was still open. */
  prematureEvictions = 0;
  private readonly cache: LRUCache<string, Claim>;
  readonly windowMs: number;

  constructor(opts: MemoryDedupOptions) {
    this.windowMs = Math.max(1, Math.round(opts.windowMs));
    this.cache = new LRUCache<string, Claim>({
      max: Math.max(1, Math.floor(opts.maxEntries)),
      ttl: this.windowMs,
      dispose: (claim, _key, reason) => {
        if (reason === 'evict' && claim.expiry > Date.now()) this.prematureEvictions++;
      },
    });
  }

  /**
   * Synchronous claim (the memory store never waits): undefined when the key was free and is now
   * claimed in the given state, else the state of the claim already there.
   */
  tryClaim(key: string, state: ClaimState = 'stored', localOnly = false): ClaimState | undefined {
    // peek: a repeat neither refreshes the key's place in the LRU nor its window.
    const existing = this.cache.peek(key);
    if (existing) return existing.pending ? 'pending' : 'stored';
    this.cache.set(key, { expiry: Date.now() + this.windowMs, pending: state === 'pending', localOnly });
    return undefined;
  }

  /** Stored claim, true when the key was free (the original boolean API). */
  claimSync(key: string, localOnly = false): boolean {
    return this.tryClaim(key, 'stored', localOnly) === undefined;
  }

  /** True when key is inside its window here. */
  has(key: string): boolean {
    return this.cache.has(key);
  }

  /** The state of key's claim, or undefined when it has none. */
  state(key: string): ClaimState | undefined {
    const c = this.cache.peek(key);
    return c ? (c.pending ? 'pending' : 'stored') : undefined;
  }

  /** pending -> stored, keeping the window; a key that was gone is claimed stored with a new window. */
  promoteSync(key: string, localOnly = false): void {
    const c = this.cache.peek(key);
    if (!c) { this.cache.set(key, { expiry: Date.now() + this.windowMs, pending: false, localOnly }); return; }
    c.pending = false;
    c.localOnly = localOnly;
  }

  /** Deletes key's claim if it is still pending; true when one was deleted. */
  releaseSync(key: string): boolean {
    const c = this.cache.peek(key);
    if (!c || !c.pending) return false;
    this.cache.delete(key);
    return true;
  }

  /** Marks a stored key as still to be written back to Redis (its promote did not reach Redis). */
  markLocalOnly(key: string): void {
    const c = this.cache.peek(key);
    if (c) c.localOnly = true;
  }

  claim(key: string, opts?: ClaimOptions): Promise<ClaimResult> {
    const existing = this.tryClaim(key, opts?.pending ? 'pending' : 'stored');
    return Promise.resolve(existing === undefined ? UNIQUE : existing === 'pending' ? DUPLICATE_PENDING : DUPLICATE);
  }

  promote(key: string): Promise<boolean> {
    this.promoteSync(key);
    return Promise.resolve(true);
  }

  release(key: string): Promise<boolean> {
    this.releaseSync(key);
    return Promise.resolve(true);
  }

  /**
   * Stored keys claimed only locally, with the ms left of their window; marks them as written back.
   * Pending ones stay local until they are promoted (a pending claim Redis never saw only lets a
   * retry through elsewhere: a duplicate at worst, never a loss).
   */
  takeLocalOnly(): [string, number][] {
    const now = Date.now();
    const out: [string, number][] = [];
    for (const [key, c] of this.cache.entries()) {
      if (c.localOnly && !c.pending && c.expiry > now) {
        out.push([key, c.expiry - now]);
        c.localOnly = false;
      }
    }
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
