// Shared dedup window in Redis so that active-active Node-RED instances (guide 001) agree. One atomic
// claim-or-inspect per event, sent for all the claims of one event-loop round as a single script call
// (tick-batch.ts, redis-claims.ts CLAIM_MANY; promotes likewise). The value is the claim's
// state: 'p' pending (delivery in flight), anything else stored. A local window remembers this instance's
// own claims: it answers repeats of stored ones without a round trip and is the window while Redis is
// unreachable (fail-open); stored claims made then are written back (SET NX) when it returns. Never
// blocks: commands time out, nothing queues while Redis is known down, and ioredis reconnects by
// itself with capped backoff.
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { MemoryDedupStore } from './memory-store';
import { PENDING, RedisClaims, STORED } from './redis-claims';
import { TickBatch } from './tick-batch';
import { DUPLICATE, DUPLICATE_PENDING, UNIQUE, type ClaimOptions, type ClaimResult, type ClaimState, type DedupStore } from './types';

export type FailMode = 'open' | 'closed';
export type RedisHealth = 'connecting' | 'ready' | 'down' | 'closed';

export interface RedisDedupOptions {
  url: string;
  password?: string;
  /** Prepended to every key, e.g. "genesys:dedup:" (one window per prefix). */
  keyPrefix?: string;
  windowMs: number;
  /** open: pass events through on the local window while Redis is down; closed: answer 'error'. */
  failMode: FailMode;
  /** Per-command timeout (default 1000 ms): a hung Redis never holds an event longer. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect backoff cap (default 2000 ms). */
  reconnectMaxDelayMs?: number;
  /** Bound of the local window (default 100000 keys). */
  localMaxEntries?: number;
  /** Extra ioredis options (tls, db, username, ...). */
  redisOptions?: RedisOptions;
}

/**
 * Events: 'health' (RedisHealth, Error | undefined) on every change; 'writeback' (count) after
 * local claims were copied to Redis.
 */
export class RedisDedupStore extends EventEmitter implements DedupStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  /** The claim, promote and release scripts. */
  readonly claims: RedisClaims;
  readonly local: MemoryDedupStore;
  private readonly prefix: string;
  private readonly windowMs: number;
  private readonly failMode: FailMode;
  /** Claims ([prefixed key, state]) and promotes (prefixed keys) of one round, one script call each. */
  private readonly claimBatch: TickBatch<readonly [string, string], string | null>;
  private readonly promoteBatch: TickBatch<string, undefined>;
  private _health: RedisHealth = 'connecting';
  private lastError: Error | undefined;

  constructor(opts: RedisDedupOptions) {
    super();
    this.prefix = opts.keyPrefix ?? '';
    this.windowMs = Math.max(1, Math.round(opts.windowMs));
    this.failMode = opts.failMode;
    this.local = new MemoryDedupStore({ windowMs: this.windowMs, maxEntries: opts.localMaxEntries ?? 100_000 });
    const maxDelay = opts.reconnectMaxDelayMs ?? 2000;
    this.redis = new Redis(opts.url, {
      ...(opts.password ? { password: opts.password } : {}),
      connectionName: 'genesys-dedup',
      enableAutoPipelining: true,
      // Claims only queue while the first connection is being made (bounded by commandTimeout);
      // once Redis is known down, claim() does not send at all.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      // A Redis that accepts but stops answering: drop the socket so that claims fail fast (health down).
      socketTimeout: 3 * (opts.commandTimeoutMs ?? 1000),
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 10), maxDelay),
      ...opts.redisOptions,
    });
    this.claims = new RedisClaims(this.redis);
    this.claimBatch = new TickBatch((claims) => this.claims.claimMany(claims, this.windowMs));
    this.promoteBatch = new TickBatch(async (keys) => {
      await this.claims.promoteMany(keys, this.windowMs);
      return keys.map(() => undefined);
    });
    this.redis.on('ready', () => {
      this.setHealth('ready');
      void this.writeBack();
    });
    this.redis.on('error', (err: Error) => { this.lastError = err; });
    this.redis.on('close', () => { if (this._health !== 'closed') this.setHealth('down', this.lastError); });
    this.redis.on('reconnecting', () => { if (this._health !== 'closed') this.setHealth('down', this.lastError); });
  }

  get health(): RedisHealth {
    return this._health;
  }

  claim(key: string, opts?: ClaimOptions): Promise<ClaimResult> {
    return this.claimMany([key], opts).then((r) => r[0]);
  }

  /** Claims of one call go to Redis together (with the rest of the round): one promise, not one per key. */
  async claimMany(keys: readonly string[], opts?: ClaimOptions): Promise<ClaimResult[]> {
    const state: ClaimState = opts?.pending ? 'pending' : 'stored';
    const out: ClaimResult[] = new Array(keys.length);
    const ask: number[] = [];
    const known: (ClaimState | undefined)[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      // Our own stored claims are duplicates for sure (same window as the Redis key). Our own pending
      // ones too for a copy that does not wait for an ack; one that does asks Redis, which may know
      // that another instance stored the event meanwhile.
      known[i] = this.local.state(keys[i]);
      if (known[i] === 'stored') out[i] = DUPLICATE;
      else if (known[i] === 'pending' && state === 'stored') out[i] = DUPLICATE_PENDING;
      else ask.push(i);
    }
    if (ask.length === 0) return out;
    if (this._health === 'down' || this._health === 'closed') {
      const err = this.downError();
      for (const i of ask) out[i] = this.fallback(keys[i], state, err);
      return out;
    }
    const value = state === 'pending' ? PENDING : STORED;
    let replies: (string | null)[];
    try {
      replies = await this.claimBatch.addMany(ask.map((i) => [this.prefix + keys[i], value] as const));
    } catch (err) {
      for (const i of ask) out[i] = this.fallback(keys[i], state, err as Error);
      return out;
    }
    for (let j = 0; j < ask.length; j++) {
      const i = ask[j];
      const reply = replies[j];
      if (reply === null || reply === undefined) {
        if (known[i] === undefined) this.local.tryClaim(keys[i], state);
        out[i] = UNIQUE;
      } else if (reply === PENDING) out[i] = DUPLICATE_PENDING;
      else {
        // Another instance stored the event that our own pending claim is for: answer repeats locally now.
        if (known[i] === 'pending') this.local.promoteSync(keys[i]);
        out[i] = DUPLICATE;
      }
    }
    return out;
  }

  promote(key: string): Promise<boolean> {
    return this.promoteMany([key]);
  }

  async promoteMany(keys: readonly string[]): Promise<boolean> {
    for (const key of keys) this.local.promoteSync(key, true);
    if (this._health === 'down' || this._health === 'closed') return false;
    try {
      await this.promoteBatch.addMany(keys.map((k) => this.prefix + k));
    } catch {
      return false; // stays local-only: written back when Redis returns
    }
    for (const key of keys) this.local.promoteSync(key, false);
    return true;
  }

  async release(key: string): Promise<boolean> {
    this.local.releaseSync(key);
    if (this._health === 'down' || this._health === 'closed') return false;
    try {
      await this.claims.release(this.prefix + key);
      return true;
    } catch {
      return false; // the pending claim in Redis expires with its window; meanwhile retries pass
    }
  }

  private fallback(key: string, state: ClaimState, error: Error): ClaimResult {
    if (this.failMode === 'closed') {
      const known = this.local.state(key);
      return known ? (known === 'pending' ? DUPLICATE_PENDING : DUPLICATE) : { outcome: 'error', error };
    }
    const existing = this.local.tryClaim(key, state, true);
    return { outcome: existing ? 'duplicate' : 'unique', ...(existing ? { existing } : {}), degraded: true, error };
  }

  private downError(): Error {
    const e = new Error(`Redis unreachable${this.lastError ? `: ${this.lastError.message}` : ''}`);
    (e as any).code = (this.lastError as any)?.code ?? 'ECONNREFUSED';
    return e;
  }

  private setHealth(h: RedisHealth, err?: Error): void {
    if (this._health === h) return;
    this._health = h;
    this.emit('health', h, err);
  }

  /** Copies keys claimed locally during an outage into Redis, so the other instances see them too. */
  private async writeBack(): Promise<void> {
    const pending = this.local.takeLocalOnly();
    if (pending.length === 0) return;
    const results = await Promise.allSettled(pending.map(([key, left]) => this.redis.set(this.prefix + key, STORED, 'PX', left, 'NX')));
    this.emit('writeback', results.filter((r) => r.status === 'fulfilled').length);
  }

  /** Resolves once Redis answered (or rejects after timeoutMs); for startup checks and tests. */
  ready(timeoutMs = 5000): Promise<void> {
    if (this._health === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.off('health', onHealth); reject(this.downError()); }, timeoutMs);
      const onHealth = (h: RedisHealth): void => {
        if (h !== 'ready') return;
        clearTimeout(timer);
        this.off('health', onHealth);
        resolve();
      };
      this.on('health', onHealth);
    });
  }

  /** Deletes this prefix's keys (tests, and an operator's "reset window"); needs a prefix. */
  async clear(): Promise<number> {
    if (!this.prefix) throw new Error('clear() needs a key prefix');
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    this.local.clear();
    return n;
  }

  /** Closes the connection: QUIT when connected (bounded), else a plain disconnect. */
  async close(): Promise<void> {
    if (this._health === 'closed') return;
    const wasReady = this._health === 'ready';
    // What this round queued goes out before QUIT (promotes especially: those events are safe).
    this.claimBatch.flush();
    this.promoteBatch.flush();
    this.setHealth('closed');
    if (wasReady) {
      await Promise.race([this.redis.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.redis.disconnect();
    await this.local.close();
  }
}
