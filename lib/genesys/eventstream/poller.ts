// Guide 002's consumer loop: GET /api/v2/eventstreams/{id}/poll?cursor=&limit= at an interval,
// draining while hasMore, one page at a time. (The endpoint is the guide's; Genesys Cloud itself has
// none: details-query.ts is the real-platform mode.)
//
// Delivery semantics: at least once. The cursor is saved only after onPage() resolved for the
// page it follows, so the saved cursor never runs ahead of what downstream accepted. A crash
// between hand-off and save replays that one page on restart; dedup absorbs it.
//
// Retries are the poller's own (requests go out with maxRetries: 0): 429 → exponential backoff
// (cap 60 s) honouring Retry-After; few requests left in the window → slower; 5xx, timeouts and
// unreadable pages → backoff; other 4xx → error and a slow retry. 401 is the API client's: it
// refreshes the token and retries once before the poller ever sees it.
import type { GenesysApi } from '../types';
import type { CursorStore } from './cursor-store';
import { parseRateLimit } from '../api-client';
import { PollError, PollLoop, statusOf, type PollLoopOptions } from './poll-loop';

export interface EventStreamSubscriptionSpec {
  name: string;
  description?: string;
  /** Filter at subscription level (guide 002's trap): only matching events enter the stream. */
  eventTypes: { entityType: 'interaction' | 'agentstate'; eventType: 'created' | 'updated'; filter?: string }[];
}

/** What the cursor store keeps. */
export interface EventStreamPosition {
  version: 1;
  streamId: string;
  /** Cursor after the last page handed off; absent: start from the oldest retained event. */
  cursor?: string;
  updatedAt: string;
}

export interface EventStreamPollerOptions extends PollLoopOptions {
  api: GenesysApi;
  /** The stream to poll; when absent, `subscription` is created once and its id kept in the store. */
  streamId?: string;
  subscription?: EventStreamSubscriptionSpec;
  store: CursorStore<EventStreamPosition>;
  /** ?limit= per poll. Default 100. */
  pageSize?: number;
  /** A page larger than this is refused as a bad response. Default max(1000, 10 × pageSize). */
  maxPageEvents?: number;
  /** On 410 (cursor expired): false (default) stay in error and keep the cursor; true restart from the oldest retained event, reporting the gap. */
  resetExpiredCursor?: boolean;
}

export class EventStreamPoller extends PollLoop {
  private readonly o: EventStreamPollerOptions;
  private readonly pageSize: number;
  private readonly maxPageEvents: number;
  private streamId = '';
  private cursor: string | undefined;
  private saveFailing = false;

  constructor(opts: EventStreamPollerOptions) {
    super(opts);
    this.o = opts;
    this.pageSize = opts.pageSize && opts.pageSize > 0 ? Math.floor(opts.pageSize) : 100;
    this.maxPageEvents = opts.maxPageEvents ?? Math.max(1000, this.pageSize * 10);
  }

  get stream(): string { return this.streamId; }
  get position(): string | undefined { return this.cursor; }

  protected override async prepare(): Promise<void> {
    let saved: EventStreamPosition | undefined;
    try {
      saved = await this.o.store.load();
    } catch (err) {
      throw new PollError(`cannot read the saved cursor: ${(err as Error).message}`, 'cursor.unreadable');
    }
    if (saved !== undefined && (typeof saved !== 'object' || saved === null || typeof saved.streamId !== 'string')) {
      throw new PollError('the saved cursor record is not one this node wrote; delete it to start from the oldest retained event', 'cursor.unreadable');
    }
    if (this.o.streamId) {
      this.streamId = this.o.streamId;
      if (saved && saved.streamId !== this.streamId) {
        this.emit('warn', `saved cursor belongs to stream ${saved.streamId}; stream ${this.streamId} starts from its oldest retained event`);
      } else this.cursor = saved?.cursor;
      return;
    }
    if (saved) { this.streamId = saved.streamId; this.cursor = saved.cursor; return; }
    if (!this.o.subscription) throw new PollError('no event stream id configured and no subscription to create', 'config');
    if (!this.streamId) {
      const res = await this.o.api.request<{ id?: string }>({
        method: 'POST', path: '/api/v2/eventstreams', body: this.o.subscription, maxRetries: 0, timeoutMs: this.requestTimeoutMs, signal: this.abort.signal,
      });
      if (!res.body || typeof res.body.id !== 'string') throw new PollError('creating the event stream subscription returned no id', 'bad.response');
      this.streamId = res.body.id;
      this.emit('subscribed', this.streamId);
    }
    // Saved before the first poll (retried with prepare() if it fails): a restart must poll this subscription, not create another.
    await this.o.store.save(this.record());
  }

  protected async step(): Promise<number> {
    this.status({ state: 'polling' });
    const started = Date.now();
    let res;
    try {
      res = await this.o.api.request<unknown>({
        method: 'GET', path: `/api/v2/eventstreams/${encodeURIComponent(this.streamId)}/poll`,
        query: { cursor: this.cursor, limit: this.pageSize }, maxRetries: 0, timeoutMs: this.requestTimeoutMs, signal: this.abort.signal,
      });
    } catch (err) {
      if (statusOf(err) === 410 && this.o.resetExpiredCursor) return this.restartExpired(err as Error);
      throw err;
    }
    const receivedAt = new Date().toISOString();
    const page = this.validate(res.body, res.status);
    this.pacer.reset();
    const events = this.withoutTooDeep(page.events, `stream ${this.streamId}`);
    if (events.length) {
      await this.onPage(events.map((e) => ({ payload: e, key: keyOf(e), receivedAt })), 'eventstream');
    }
    if (page.cursor !== this.cursor) {
      this.cursor = page.cursor;
      await this.save();
    }
    const more = page.hasMore && page.events.length > 0;
    this.emit('page', { events: page.events.length, hasMore: more, durationMs: Date.now() - started });
    const rl = res.rateLimit ?? parseRateLimit(res.headers ?? {});
    const pace = this.pacer.pace(rl);
    const base = more ? 0 : this.intervalMs;
    if (pace > base) this.status({ state: 'paced', delayMs: pace, reason: `${rl?.remaining ?? 0} requests left in the rate-limit window` });
    else if (!more) this.status({ state: 'idle', delayMs: base });
    return Math.max(base, pace);
  }

  private validate(body: unknown, status: number): { events: unknown[]; cursor: string; hasMore: boolean } {
    const bad = (what: string): PollError =>
      new PollError(`bad poll response from stream ${this.streamId} (HTTP ${status}): ${what}`, 'bad.response', undefined, preview(body));
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad(typeof body === 'string' ? 'not JSON' : 'not a JSON object');
    const b = body as { events?: unknown; cursor?: unknown; hasMore?: unknown };
    if (!Array.isArray(b.events)) throw bad('no events array');
    if (typeof b.cursor !== 'string' || b.cursor === '') throw bad('no cursor');
    if (b.events.length > this.maxPageEvents) throw bad(`${b.events.length} events in one page, more than the ${this.maxPageEvents} accepted (limit asked: ${this.pageSize})`);
    return { events: b.events, cursor: b.cursor, hasMore: b.hasMore === true };
  }

  private async restartExpired(err: Error): Promise<number> {
    this.emit('pollError', new PollError(
      `cursor expired on stream ${this.streamId} (${err.message}): events after it were no longer retained and are lost; restarting from the oldest retained event`,
      'cursor.expired', 410));
    this.cursor = undefined;
    await this.save();
    return 0;
  }

  private record(): EventStreamPosition {
    return { version: 1, streamId: this.streamId, cursor: this.cursor, updatedAt: new Date().toISOString() };
  }

  private async save(): Promise<void> {
    try {
      await this.o.store.save(this.record());
      this.saveFailing = false;
    } catch (err) {
      // Keep polling from the in-memory cursor: a restart would replay (never skip) what follows.
      if (!this.saveFailing) this.emit('pollError', new PollError(`cannot save the cursor: ${(err as Error).message}`, 'cursor.save'));
      this.saveFailing = true;
    }
  }
}

/** The Kafka key of a polled event: the interaction (conversation) id. */
export function keyOf(e: unknown): string | undefined {
  const ev = e as { entityType?: unknown; entity?: Record<string, unknown> } | null;
  const entity = ev && typeof ev.entity === 'object' && ev.entity ? ev.entity : undefined;
  if (!entity) return undefined;
  const id = ev!.entityType === 'interaction' ? entity.id : entity.conversationId ?? entity.id;
  return typeof id === 'string' && id ? id : undefined;
}

function preview(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body) ?? String(body);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
