// In-process dedup window bounded by entry count and TTL, so memory cannot grow without limit.
// Every claim gets the same window from its first sight and a repeat never refreshes it, so claims
// expire in the order they were made: a Map for lookups plus a queue in claim order is all the
// bookkeeping needed (an LRU with per-entry TTLs cost 5 % of the push pipeline's main thread).
// When it is full, the oldest claim goes first; a duplicate of an evicted key then passes again
// (never a loss), which `prematureEvictions` counts so the node can warn.
// Each key holds a claim that is pending (its delivery still in flight) or stored (see types.ts).
import { DUPLICATE, DUPLICATE_PENDING, UNIQUE, type ClaimOptions, type ClaimResult, type ClaimState, type DedupStore } from './types';

export interface MemoryDedupOptions {
  windowMs: number;
  maxEntries: number;
}

interface Claim {
  key: string;
  /** ms since epoch when the window of this key ends. */
  expiry: number;
  pending: boolean;
  /** Claimed while Redis was unreachable: the Redis store still has to write it back. */
  localOnly: boolean;
}

/** Claims in the order they were made (= expiry order); released ones stay until they reach the head. */
class ClaimQueue {
  private items: Claim[] = [];
  private head = 0;

  push(c: Claim): void { this.items.push(c); }
  peek(): Claim | undefined { return this.items[this.head]; }

  shift(): Claim | undefined {
    const c = this.items[this.head];
    if (c === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Claim;
    // Drop the consumed prefix now and then, not on every shift.
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return c;
  }

  clear(): void { this.items = []; this.head = 0; }
}

/** A claim's answer from tryClaim(): free (now ours), or the state of the claim already there. */
function resultOf(existing: ClaimState | undefined): ClaimResult {
  return existing === undefined ? UNIQUE : existing === 'pending' ? DUPLICATE_PENDING : DUPLICATE;
}

export class MemoryDedupStore implements DedupStore {
  readonly kind = 'memory' as const;
  /** Keys evicted for room while their window was still open. */
  prematureEvictions = 0;
  private readonly claims = new Map<string, Claim>();
  private readonly order = new ClaimQueue();
  readonly windowMs: number;
  readonly maxEntries: number;

  constructor(opts: MemoryDedupOptions) {
    this.windowMs = Math.max(1, Math.round(opts.windowMs));
    this.maxEntries = Math.max(1, Math.floor(opts.maxEntries));
  }

  /** key's claim while its window is open. */
  private live(key: string): Claim | undefined {
    const c = this.claims.get(key);
    if (c === undefined || c.expiry > Date.now()) return c;
    this.claims.delete(key);
    return undefined;
  }

  /** Forgets claims whose window closed; with full = true also the oldest open one (eviction). */
  private trim(now: number, full: boolean): void {
    for (let c = this.order.peek(); c !== undefined; c = this.order.peek()) {
      const current = this.claims.get(c.key) === c; // false: released, or replaced after it expired
      if (current && c.expiry > now && !(full && this.claims.size >= this.maxEntries)) return;
      this.order.shift();
      if (!current) continue;
      this.claims.delete(c.key);
      if (c.expiry > now) this.prematureEvictions++;
    }
  }

  private insert(key: string, pending: boolean, localOnly: boolean): void {
    const now = Date.now();
    this.trim(now, true);
    const c: Claim = { key, expiry: now + this.windowMs, pending, localOnly };
    this.claims.set(key, c);
    this.order.push(c);
  }

  /**
   * Synchronous claim (the memory store never waits): undefined when the key was free and is now
   * claimed in the given state, else the state of the claim already there.
   */
  tryClaim(key: string, state: ClaimState = 'stored', localOnly = false): ClaimState | undefined {
    // A repeat refreshes neither the key's window nor its place in the eviction order.
    const existing = this.live(key);
    if (existing) return existing.pending ? 'pending' : 'stored';
    this.insert(key, state === 'pending', localOnly);
    return undefined;
  }

  /** Stored claim, true when the key was free (the original boolean API). */
  claimSync(key: string, localOnly = false): boolean {
    return this.tryClaim(key, 'stored', localOnly) === undefined;
  }

  /** True when key is inside its window here. */
  has(key: string): boolean {
    return this.live(key) !== undefined;
  }

  /** The state of key's claim, or undefined when it has none. */
  state(key: string): ClaimState | undefined {
    const c = this.live(key);
    return c ? (c.pending ? 'pending' : 'stored') : undefined;
  }

  /** pending -> stored, keeping the window; a key that was gone is claimed stored with a new window. */
  promoteSync(key: string, localOnly = false): void {
    const c = this.live(key);
    if (!c) { this.insert(key, false, localOnly); return; }
    c.pending = false;
    c.localOnly = localOnly;
  }

  /** Deletes key's claim if it is still pending; true when one was deleted. */
  releaseSync(key: string): boolean {
    const c = this.live(key);
    if (!c || !c.pending) return false;
    this.claims.delete(key); // its queue entry goes when it reaches the head
    return true;
  }

  /** Marks a stored key as still to be written back to Redis (its promote did not reach Redis). */
  markLocalOnly(key: string): void {
    const c = this.live(key);
    if (c) c.localOnly = true;
  }

  claim(key: string, opts?: ClaimOptions): Promise<ClaimResult> {
    return Promise.resolve(resultOf(this.tryClaim(key, opts?.pending ? 'pending' : 'stored')));
  }

  claimMany(keys: readonly string[], opts?: ClaimOptions): Promise<ClaimResult[]> {
    const state = opts?.pending ? 'pending' : 'stored';
    return Promise.resolve(keys.map((key) => resultOf(this.tryClaim(key, state))));
  }

  promote(key: string): Promise<boolean> {
    this.promoteSync(key);
    return Promise.resolve(true);
  }

  promoteMany(keys: readonly string[]): Promise<boolean> {
    for (const key of keys) this.promoteSync(key);
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
    for (const [key, c] of this.claims) {
      if (c.localOnly && !c.pending && c.expiry > now) {
        out.push([key, c.expiry - now]);
        c.localOnly = false;
      }
    }
    return out;
  }

  /** Claims whose window is open. */
  get size(): number {
    this.trim(Date.now(), false);
    return this.claims.size;
  }

  clear(): void {
    this.claims.clear();
    this.order.clear();
  }

  close(): Promise<void> {
    this.clear();
    return Promise.resolve();
  }
}
