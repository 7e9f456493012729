// REST backfill after a notification gap. The platform does not buffer events for a socket that is
// down, so for each gap we (1) look up every conversation of the gap's topics we knew to be active,
// and (2) find conversations that started or changed in the gap window with the details query;
// then GET /api/v2/conversations/{id} gives each one's latest state, emitted as a queue
// conversation event marked backfilled. Overlap with live events is expected: dedup absorbs it.
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import type { AnalyticsConversation } from '../shapes';
import type { GenesysApi } from '../types';
import type { ChannelGap } from './channel-manager';
import { conversationIdOf, fromAnalyticsConversation, fromConversationResource, isConversationEnded, topicsOfConversation } from './conversation-state';

export interface BackfillOptions {
  api: GenesysApi;
  /** Topics subscribed now: only these are backfilled. */
  subscribedTopics: () => Iterable<string>;
  /** Parallel GET lookups (the API client also honours 429/Retry-After). Default 4. */
  concurrency?: number;
  /** Widens the gap window on both sides (clock skew, in-flight events). Default 5 s. */
  slackMs?: number;
  /** Details query page size (1..100). Default 100. */
  pageSize?: number;
  /** Predicates per details query (queue/user ids). Default 50. */
  maxPredicates?: number;
  /** Lookups per gap at most; more are reported in a warning. Default 10 000. */
  maxConversations?: number;
  /** Active conversations remembered for lookups. Default 50 000. */
  trackLimit?: number;
}

export interface BackfillEvent {
  topicName: string;
  eventBody: any;
  receivedAt: string;
  backfilled: true;
  gap: { from: string; to: string };
}

/**
 * The "topic" of a subscription without queue or user filters (the realtime analytics socket subscribed
 * to every conversation): its gaps are filled from every conversation active in the gap window.
 */
export const ALL_CONVERSATIONS = '*';

const QUEUE_TOPIC = /^v2\.routing\.queues\.([^.]+)\.conversations(\.[a-z]+)?$/;
const USER_TOPIC = /^v2\.users\.([^.]+)\.conversations$/;

/** Emits 'event' (BackfillEvent), 'done' ({gap, emitted, lookups}) and 'warn' (message). */
export class Backfill extends EventEmitter {
  readonly stats = { gaps: 0, queries: 0, lookups: 0, emitted: 0, notFound: 0, errors: 0 };
  private readonly opts: Required<Omit<BackfillOptions, 'api' | 'subscribedTopics'>>;
  private readonly active: LRUCache<string, Set<string>>;
  private pending: ChannelGap | null = null;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly o: BackfillOptions) {
    super();
    this.opts = { concurrency: 4, slackMs: 5000, pageSize: 100, maxPredicates: 50, maxConversations: 10_000, trackLimit: 50_000, ...stripUndefined(o) };
    this.active = new LRUCache({ max: this.opts.trackLimit });
  }

  /** Feed every live event: conversations seen active are looked up after a gap. */
  observe(topicName: string, eventBody: unknown): void {
    const id = conversationIdOf(eventBody);
    if (!id) return;
    if (isConversationEnded(eventBody)) { this.active.delete(id); return; }
    const topics = this.active.get(id) ?? new Set<string>();
    topics.add(topicName);
    this.active.set(id, topics);
  }

  /** Conversations currently believed active. */
  get trackedActive(): number {
    return this.active.size;
  }

  /** Queues a gap; gaps arriving while one is being filled are merged into the next run. */
  fill(gap: ChannelGap): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stats.gaps++;
    this.pending = this.pending ? merge(this.pending, gap) : gap;
    this.running ??= this.drain().finally(() => { this.running = null; });
    return this.running;
  }

  /** Resolves when no gap is waiting or being filled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    this.pending = null;
    this.abort.abort();
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      const gap = this.pending;
      this.pending = null;
      try {
        await this.fillOne(gap);
      } catch (err) {
        if (this.stopped) return;
        this.stats.errors++;
        this.emit('warn', `backfill of ${gap.from}..${gap.to} failed: ${(err as Error).message}`);
      }
    }
  }

  private async fillOne(gap: ChannelGap): Promise<void> {
    const subscribed = new Set(this.o.subscribedTopics());
    const topics = new Set(gap.topics.filter((t) => subscribed.has(t)));
    if (!topics.size) return;
    const all = topics.has(ALL_CONVERSATIONS);
    const candidates = new Map<string, AnalyticsConversation | null>();
    for (const [id, seen] of this.active.entries()) if (all || [...seen].some((t) => topics.has(t))) candidates.set(id, null);
    const queueIds = new Set<string>();
    const userIds = new Set<string>();
    for (const t of topics) {
      const q = QUEUE_TOPIC.exec(t);
      const u = USER_TOPIC.exec(t);
      if (q) queueIds.add(q[1]); else if (u) userIds.add(u[1]);
    }
    if (!all && queueIds.size + userIds.size < topics.size) this.emit('warn', 'backfill covers queue and user conversation topics only; other topics in the gap are not backfilled');
    const from = new Date(Date.parse(gap.from) - this.opts.slackMs).toISOString();
    const to = new Date(Date.parse(gap.to) + this.opts.slackMs).toISOString();
    const predicates = [...[...queueIds].map((value) => ({ dimension: 'queueId', value })), ...[...userIds].map((value) => ({ dimension: 'userId', value }))];
    // Without filters one unfiltered query covers the window; else one per slice of predicates.
    const slices = all ? [[]] : Array.from({ length: Math.ceil(predicates.length / this.opts.maxPredicates) }, (_, i) => predicates.slice(i * this.opts.maxPredicates, (i + 1) * this.opts.maxPredicates));
    for (const slice of slices) {
      for (const c of await this.query(`${from}/${to}`, slice)) {
        if (c && typeof c.conversationId === 'string' && !candidates.get(c.conversationId)) candidates.set(c.conversationId, c);
      }
    }
    let ids = [...candidates.keys()];
    if (ids.length > this.opts.maxConversations) {
      this.emit('warn', `backfill limited to ${this.opts.maxConversations} of ${ids.length} conversations`);
      ids = ids.slice(0, this.opts.maxConversations);
    }
    let emitted = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && !this.stopped) {
        const id = ids[next++];
        if (await this.lookup(id, candidates.get(id) ?? null, topics, gap)) emitted++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, ids.length) }, worker));
    this.emit('done', { gap, emitted, lookups: ids.length });
  }

  /** Every page of the details query for this interval and these predicates. */
  private async query(interval: string, predicates: { dimension: string; value: string }[]): Promise<AnalyticsConversation[]> {
    const out: AnalyticsConversation[] = [];
    for (let pageNumber = 1; !this.stopped; pageNumber++) {
      this.stats.queries++;
      const res = await this.o.api.request<{ conversations?: AnalyticsConversation[]; totalHits?: number }>({
        method: 'POST', path: '/api/v2/analytics/conversations/details/query', signal: this.abort.signal,
        body: { interval, order: 'asc', orderBy: 'conversationStart', paging: { pageSize: this.opts.pageSize, pageNumber }, ...(predicates.length ? { segmentFilters: [{ type: 'or', predicates }] } : {}) },
      });
      const page = Array.isArray(res.body?.conversations) ? res.body.conversations : [];
      out.push(...page);
      const total = typeof res.body?.totalHits === 'number' ? res.body.totalHits : 0;
      if (page.length < this.opts.pageSize || pageNumber * this.opts.pageSize >= total) break;
    }
    return out;
  }

  private async lookup(id: string, analytics: AnalyticsConversation | null, topics: Set<string>, gap: ChannelGap): Promise<boolean> {
    this.stats.lookups++;
    let body;
    try {
      const res = await this.o.api.request({ method: 'GET', path: `/api/v2/conversations/${encodeURIComponent(id)}`, acceptStatus: [404], signal: this.abort.signal });
      if (res.status === 404) {
        this.stats.notFound++;
        this.active.delete(id);
        if (!analytics) return false;
        body = fromAnalyticsConversation(analytics);
      } else {
        body = fromConversationResource(res.body ?? {});
      }
    } catch (err) {
      if (this.stopped) return false;
      this.stats.errors++;
      this.emit('warn', `backfill lookup of a conversation failed: ${(err as Error).message}`);
      return false;
    }
    if (this.stopped) return false;
    const known = this.active.get(id);
    const topicName = topics.has(ALL_CONVERSATIONS) ? topicsOfConversation(body)[0] ?? ALL_CONVERSATIONS
      : topicsOfConversation(body).find((t) => topics.has(t)) ?? [...known ?? []].find((t) => topics.has(t));
    if (!topicName) return false;
    this.observe(topicName, body);
    this.stats.emitted++;
    this.emit('event', { topicName, eventBody: body, receivedAt: new Date().toISOString(), backfilled: true, gap: { from: gap.from, to: gap.to } } satisfies BackfillEvent);
    return true;
  }
}

function merge(a: ChannelGap, b: ChannelGap): ChannelGap {
  return {
    from: a.from < b.from ? a.from : b.from,
    to: a.to > b.to ? a.to : b.to,
    topics: [...new Set([...a.topics, ...b.topics])],
    channelId: b.channelId,
    reason: a.reason === b.reason ? a.reason : `${a.reason}+${b.reason}`,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
