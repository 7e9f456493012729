// The real platform's way to poll conversations: POST /api/v2/analytics/conversations/details/query
// over sliding intervals with paging (Genesys Cloud has no event-stream poll endpoint).
//
// The platform buckets conversations by conversationStart, and a conversation that started in an
// interval keeps changing until it ends, so "done with an interval" means: every conversation that
// started in it has been emitted in its ended state. The saved position is therefore
//   completedUntil = min(start of the oldest still-open conversation, now − settleMs)
// and every tick queries [completedUntil, now] again, slice by slice, page by page (order asc by
// conversationStart, so conversations that appear meanwhile land on later pages). totalHits moves
// while an interval is live, so paging stops on a short page, and results are deduplicated: a
// conversation is emitted when its rendering changed (hash per conversationId), once per change.
// settleMs covers analytics latency: conversations that show up late, with an earlier start, still
// fall inside a window that is queried again.
import { createHash } from 'node:crypto';
import type { AnalyticsConversation } from '../shapes';
import type { GenesysApi } from '../types';
import { parseRateLimit } from '../api-client';
import type { CursorStore } from './cursor-store';
import { PollError, PollLoop, type PollLoopOptions } from './poll-loop';

export const DETAILS_QUERY_PATH = '/api/v2/analytics/conversations/details/query';

/** What the cursor store keeps in details-query mode. */
export interface DetailsQueryPosition {
  version: 1;
  mode: 'details-query';
  /** Conversations that started before this were all emitted in their final state (or given up on as zombies). */
  completedUntil: string;
  /** conversationId → [hash of the last emitted rendering, conversationStart ms, conversationEnd ms, 0 while open, −1 given up as a zombie]. */
  seen: Record<string, SeenEntry>;
  updatedAt: string;
}

type SeenEntry = [hash: string, startMs: number, endMs: number];

export interface DetailsQueryPollerOptions extends PollLoopOptions {
  api: GenesysApi;
  store: CursorStore<DetailsQueryPosition>;
  /** paging.pageSize. Default 100. */
  pageSize?: number;
  /** Extra query body fields: segmentFilters, conversationFilters, ... */
  query?: Record<string, unknown>;
  /** Without a saved position, start this far back (ms). Default 1 h. */
  initialLookbackMs?: number;
  /** Longest interval in one query; a longer backlog is walked slice by slice (ms). Default 1 h. */
  sliceMs?: number;
  /** The most recent window always queried again, for analytics latency (ms). Default 2 min. */
  settleMs?: number;
  /** A conversation open longer than this stops holding the window back (a zombie) (ms). Default 24 h. */
  maxOpenMs?: number;
  /** Pages per slice before giving up with an error (lower sliceMs then). Default 1000. */
  maxPages?: number;
  now?: () => number;
}

export class DetailsQueryPoller extends PollLoop {
  private readonly o: DetailsQueryPollerOptions;
  private readonly pageSize: number;
  private readonly now: () => number;
  private completedUntil = 0;
  private seen = new Map<string, SeenEntry>();

  constructor(opts: DetailsQueryPollerOptions) {
    super(opts);
    this.o = opts;
    this.pageSize = opts.pageSize && opts.pageSize > 0 ? Math.floor(opts.pageSize) : 100;
    this.now = opts.now ?? Date.now;
  }

  /** Start of the window the next tick queries (ms since epoch). */
  get position(): number { return this.completedUntil; }

  protected override async prepare(): Promise<void> {
    let saved: DetailsQueryPosition | undefined;
    try {
      saved = await this.o.store.load();
    } catch (err) {
      throw new PollError(`cannot read the saved position: ${(err as Error).message}`, 'cursor.unreadable');
    }
    const at = saved ? Date.parse(saved.completedUntil) : NaN;
    if (saved !== undefined && (saved?.mode !== 'details-query' || !Number.isFinite(at) || typeof saved.seen !== 'object')) {
      throw new PollError('the saved position is not a details-query position this node wrote; delete it to start over', 'cursor.unreadable');
    }
    this.completedUntil = saved ? at : this.now() - (this.o.initialLookbackMs ?? 3_600_000);
    this.seen = new Map(Object.entries(saved?.seen ?? {}));
  }

  protected async step(): Promise<number> {
    this.status({ state: 'polling' });
    const until = this.now();
    const sliceMs = this.o.sliceMs ?? 3_600_000;
    const returned = new Set<string>();
    for (let from = this.completedUntil; from < until && !this.stopped; from = Math.min(until, from + sliceMs)) {
      await this.querySlice(from, Math.min(until, from + sliceMs), returned);
      await this.advance(Math.min(until, from + sliceMs));
    }
    // A zombie is remembered (not re-emitted) as long as the queries still return it.
    if (!this.stopped) for (const [id, [, , end]] of this.seen) if (end < 0 && !returned.has(id)) this.seen.delete(id);
    this.pacer.reset();
    this.status({ state: 'idle', delayMs: this.intervalMs });
    return this.intervalMs;
  }

  private async querySlice(from: number, to: number, returned: Set<string>): Promise<void> {
    const interval = `${new Date(from).toISOString()}/${new Date(to).toISOString()}`;
    const maxPages = this.o.maxPages ?? 1000;
    for (let pageNumber = 1; !this.stopped; pageNumber++) {
      if (pageNumber > maxPages) throw new PollError(`more than ${maxPages} pages of ${this.pageSize} in ${interval}; lower the slice length`, 'too.many.pages');
      const started = Date.now();
      const res = await this.o.api.request<unknown>({
        method: 'POST', path: DETAILS_QUERY_PATH, maxRetries: 0, timeoutMs: this.requestTimeoutMs, signal: this.abort.signal,
        body: { ...this.o.query, interval, order: 'asc', orderBy: 'conversationStart', paging: { pageSize: this.pageSize, pageNumber } },
      });
      const receivedAt = new Date().toISOString();
      const conversations = this.withoutTooDeep(validate(res.body, res.status, interval), `the details query for ${interval}`);
      const changed: AnalyticsConversation[] = [];
      const hashes = conversations.map((c) => hashOf(c));
      conversations.forEach((c, i) => { if (this.seen.get(c.conversationId)?.[0] !== hashes[i]) changed.push(c); });
      if (changed.length) {
        await this.onPage(changed.map((c) => ({ payload: c, key: c.conversationId, receivedAt })), 'details-query');
      }
      conversations.forEach((c, i) => {
        const end = endOf(c) || (this.seen.get(c.conversationId)?.[2] === -1 ? -1 : 0);
        this.seen.set(c.conversationId, [hashes[i], Date.parse(c.conversationStart), end]);
        returned.add(c.conversationId);
      });
      this.emit('page', { events: changed.length, hasMore: conversations.length >= this.pageSize, durationMs: Date.now() - started });
      if (conversations.length < this.pageSize) return;
      const pace = this.pacer.pace(res.rateLimit ?? parseRateLimit(res.headers ?? {}));
      if (pace > 0) { this.status({ state: 'paced', delayMs: pace }); await this.sleep(pace); }
    }
  }

  /** Moves completedUntil up to `sliceEnd`, held back by open conversations and the settle window, and saves. */
  private async advance(sliceEnd: number): Promise<void> {
    const now = this.now();
    const settleMs = this.o.settleMs ?? 120_000;
    let next = Math.min(sliceEnd, now - settleMs);
    const zombieBefore = now - (this.o.maxOpenMs ?? 86_400_000);
    for (const [id, entry] of this.seen) {
      if (entry[2]) continue;
      if (entry[1] < zombieBefore) {
        this.emit('warn', `conversation ${id} has been open since ${new Date(entry[1]).toISOString()}; it no longer holds the details query window back`);
        entry[2] = -1;
      } else next = Math.min(next, entry[1]);
    }
    this.completedUntil = Math.max(this.completedUntil, next);
    // An ended conversation is forgotten once no later query can return it: queries go by start, but
    // some servers match "active in the interval", so its end must be behind the window too.
    for (const [id, [, start, end]] of this.seen) if (end > 0 && Math.max(start, end) + settleMs < this.completedUntil) this.seen.delete(id);
    try {
      await this.o.store.save({
        version: 1, mode: 'details-query', completedUntil: new Date(this.completedUntil).toISOString(),
        seen: Object.fromEntries(this.seen), updatedAt: new Date().toISOString(),
      });
    } catch (err) {
      this.emit('pollError', new PollError(`cannot save the position: ${(err as Error).message}`, 'cursor.save'));
    }
  }
}

function validate(body: unknown, status: number, interval: string): AnalyticsConversation[] {
  const bad = (what: string): PollError => new PollError(`bad details query response for ${interval} (HTTP ${status}): ${what}`, 'bad.response');
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad(typeof body === 'string' ? 'not JSON' : 'not a JSON object');
  const list = (body as { conversations?: unknown }).conversations;
  if (list === undefined) return []; // the platform omits the array when nothing matched
  if (!Array.isArray(list)) throw bad('conversations is not an array');
  for (const c of list) {
    if (!c || typeof c.conversationId !== 'string' || !Number.isFinite(Date.parse(c.conversationStart))) {
      throw bad('a conversation without conversationId or conversationStart');
    }
  }
  return list as AnalyticsConversation[];
}

function endOf(c: AnalyticsConversation): number {
  const end = c.conversationEnd ? Date.parse(c.conversationEnd) : NaN;
  return Number.isFinite(end) && end > 0 ? end : 0;
}

function hashOf(c: AnalyticsConversation): string {
  return createHash('sha1').update(JSON.stringify(c)).digest('base64url').slice(0, 16);
}
