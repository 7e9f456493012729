// Zombie-conversation janitor (guide 001, edge case 2): a missed "disconnect" leaves a conversation
// looking active forever. Every conversation seen active is tracked; one still active after a
// threshold (default 4 h) is looked up with GET /api/v2/conversations/{id}. If it has ended, one
// synthetic finalize event is emitted. 404 means ended-or-unknown (deleted, past retention, or an id
// this org never had): either way nothing will ever end it, so it is finalized too, marked not-found.
// The tracking lives in memory or in Redis (a restart keeps it; active-active instances share it and
// the atomic ZREM decides which one emits the finalize).
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { sleep } from './backoff';
import type { GenesysApi } from './types';
import type { QueueConversationEvent } from './shapes';
import { conversationIdOf, fromConversationResource, isConversationEnded, topicsOfConversation } from './channels/conversation-state';

/** Conversations seen active, each with the time it is due for a lookup. */
export interface JanitorStore {
  /** Starts tracking unless already tracked (the first sighting's due time wins). */
  track(id: string, dueAt: number, topicName?: string): Promise<void>;
  /** Stops tracking; true only for the caller that actually removed it. */
  untrack(id: string): Promise<boolean>;
  due(now: number, limit: number): Promise<string[]>;
  reschedule(id: string, dueAt: number): Promise<void>;
  topicOf(id: string): Promise<string | undefined>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export class MemoryJanitorStore implements JanitorStore {
  private readonly items = new Map<string, { dueAt: number; topicName?: string }>();
  constructor(private readonly maxEntries = 200_000) {}
  async track(id: string, dueAt: number, topicName?: string): Promise<void> {
    if (this.items.has(id)) return;
    // Bounded: the oldest sightings go first (Map keeps insertion order).
    if (this.items.size >= this.maxEntries) this.items.delete(this.items.keys().next().value as string);
    this.items.set(id, { dueAt, topicName });
  }
  async untrack(id: string): Promise<boolean> { return this.items.delete(id); }
  async due(now: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [id, v] of this.items) { if (v.dueAt <= now) out.push(id); if (out.length >= limit) break; }
    return out;
  }
  async reschedule(id: string, dueAt: number): Promise<void> { const v = this.items.get(id); if (v) v.dueAt = dueAt; }
  async topicOf(id: string): Promise<string | undefined> { return this.items.get(id)?.topicName; }
  async size(): Promise<number> { return this.items.size; }
  async close(): Promise<void> { this.items.clear(); }
}

/** A sorted set `<prefix>due` (score = due time) and a hash `<prefix>topic`. */
export class RedisJanitorStore implements JanitorStore {
  readonly redis: Redis;
  constructor(url: string, private readonly prefix = 'genesys:janitor:', options: RedisOptions = {}) {
    this.redis = new Redis(url, { connectionName: 'genesys-janitor', maxRetriesPerRequest: 2, commandTimeout: 2000, lazyConnect: false, ...options });
    this.redis.on('error', () => { /* reconnects by itself; failures surface per command */ });
  }
  async track(id: string, dueAt: number, topicName?: string): Promise<void> {
    const m = this.redis.multi().zadd(`${this.prefix}due`, 'NX', dueAt, id);
    if (topicName) m.hsetnx(`${this.prefix}topic`, id, topicName);
    await m.exec();
  }
  async untrack(id: string): Promise<boolean> {
    const [[, removed]] = (await this.redis.multi().zrem(`${this.prefix}due`, id).hdel(`${this.prefix}topic`, id).exec()) as [Error | null, number][];
    return removed === 1;
  }
  async due(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(`${this.prefix}due`, '-inf', now, 'LIMIT', 0, limit);
  }
  async reschedule(id: string, dueAt: number): Promise<void> { await this.redis.zadd(`${this.prefix}due`, 'XX', dueAt, id); }
  async topicOf(id: string): Promise<string | undefined> { return (await this.redis.hget(`${this.prefix}topic`, id)) ?? undefined; }
  async size(): Promise<number> { return this.redis.zcard(`${this.prefix}due`); }
  async close(): Promise<void> {
    await Promise.race([this.redis.quit().catch(() => undefined), sleep(1000)]);
    this.redis.disconnect();
  }
}

export interface JanitorOptions {
  api: GenesysApi;
  store?: JanitorStore;
  /** Active longer than this → look it up. Default 4 h (guide 001). */
  thresholdMs?: number;
  /** How often due conversations are looked for. Default 60 s. */
  sweepIntervalMs?: number;
  /** A conversation found still active is looked up again after this. Default 30 min. */
  recheckMs?: number;
  /** GET lookups per second at most (the platform allows 300 requests/min per token). Default 2. */
  maxLookupsPerSecond?: number;
  /** Lookups per sweep at most. Default 500. */
  batchSize?: number;
}

export interface JanitorFinalize {
  conversationId: string;
  topicName: string;
  /** A queue conversation event with every participant ended (or none, for not-found). */
  eventBody: QueueConversationEvent;
  reason: 'ended' | 'not-found';
  synthetic: true;
}

/** Emits 'finalize' (JanitorFinalize) and 'warn' (message). */
export class ZombieJanitor extends EventEmitter {
  readonly stats = { lookups: 0, finalized: 0, notFound: 0, stillActive: 0, errors: 0 };
  readonly store: JanitorStore;
  private readonly o: Required<Omit<JanitorOptions, 'store'>>;
  /** Ids this instance already tracks or finalized: no store round trip per event. */
  private readonly tracked = new LRUCache<string, true>({ max: 100_000 });
  /** Ids seen ended or finalized: a late or reordered "active" event must not track them again. */
  private readonly closed = new LRUCache<string, true>({ max: 50_000 });
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private readonly abort = new AbortController();
  private nextLookupAt = 0;
  private stopped = false;

  constructor(opts: JanitorOptions) {
    super();
    this.store = opts.store ?? new MemoryJanitorStore();
    this.o = { thresholdMs: 4 * 3600_000, sweepIntervalMs: 60_000, recheckMs: 30 * 60_000, maxLookupsPerSecond: 2, batchSize: 500, ...definedOnly(opts) } as Required<Omit<JanitorOptions, 'store'>>;
  }

  /** Feed every event (live or backfilled): active conversations are tracked, ended ones dropped. */
  observe(topicName: string, eventBody: unknown, at = Date.now()): void {
    const id = conversationIdOf(eventBody);
    if (!id || this.stopped || this.closed.has(id)) return;
    if (isConversationEnded(eventBody)) {
      this.tracked.delete(id);
      this.closed.set(id, true);
      this.store.untrack(id).catch((err) => this.warn(err));
      return;
    }
    if (this.tracked.has(id)) return;
    this.tracked.set(id, true);
    this.store.track(id, at + this.o.thresholdMs, topicName).catch((err) => this.warn(err));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => { void this.sweep(); }, this.o.sweepIntervalMs);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.sweeping?.catch(() => undefined);
    await this.store.close();
  }

  /** Looks up every due conversation (rate-limited); returns how many were finalized. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => { this.sweeping = null; });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let finalized = 0;
    let ids: string[];
    try {
      ids = await this.store.due(Date.now(), this.o.batchSize);
    } catch (err) {
      this.warn(err);
      return 0;
    }
    for (const id of ids) {
      if (this.stopped) break;
      const wait = this.nextLookupAt - Date.now();
      this.nextLookupAt = Math.max(Date.now(), this.nextLookupAt) + 1000 / this.o.maxLookupsPerSecond;
      if (wait > 0 && !(await sleep(wait, this.abort.signal).then(() => true, () => false))) break;
      if (await this.check(id)) finalized++;
    }
    return finalized;
  }

  private async check(id: string): Promise<boolean> {
    this.stats.lookups++;
    let res;
    try {
      res = await this.o.api.request({ method: 'GET', path: `/api/v2/conversations/${encodeURIComponent(id)}`, acceptStatus: [404], signal: this.abort.signal });
    } catch (err) {
      if (this.stopped) return false;
      this.stats.errors++;
      this.warn(err);
      await this.store.reschedule(id, Date.now() + this.o.sweepIntervalMs).catch(() => undefined);
      return false;
    }
    const now = new Date().toISOString();
    let body: QueueConversationEvent;
    let reason: JanitorFinalize['reason'];
    if (res.status === 404) {
      body = { id, participants: [], endTime: now };
      reason = 'not-found';
    } else if (isConversationEnded(res.body)) {
      body = fromConversationResource(res.body);
      body.endTime = typeof res.body.endTime === 'string' ? res.body.endTime : latestEnd(body) ?? now;
      reason = 'ended';
    } else {
      this.stats.stillActive++;
      await this.store.reschedule(id, Date.now() + this.o.recheckMs).catch((err) => this.warn(err));
      return false;
    }
    const topicName = (await this.store.topicOf(id).catch(() => undefined)) ?? topicsOfConversation(body)[0] ?? `v2.conversations.${id}`;
    // Only the instance whose untrack removed the entry emits: one finalize even when several share Redis.
    if (!(await this.store.untrack(id).catch(() => false))) return false;
    this.tracked.delete(id);
    this.closed.set(id, true);
    this.stats.finalized++;
    if (reason === 'not-found') this.stats.notFound++;
    this.emit('finalize', { conversationId: id, topicName, eventBody: body, reason, synthetic: true } satisfies JanitorFinalize);
    return true;
  }

  private warn(err: unknown): void {
    if (!this.stopped) this.emit('warn', `janitor: ${(err as Error)?.message ?? String(err)}`);
  }
}

function latestEnd(body: QueueConversationEvent): string | undefined {
  const ends = body.participants.map((p) => p.endTime).filter((t): t is string => typeof t === 'string').sort();
  return ends[ends.length - 1];
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
