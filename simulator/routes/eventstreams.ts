// Simulator: event stream subscriptions and the poll endpoint of guide 002. Genesys Cloud has no
// such endpoint (see ../shared/GENESYS-API.md); the simulator serves it so the poll node is testable.
//
//   POST   /api/v2/eventstreams               {name, eventTypes:[{entityType, eventType, filter}]} -> 201 subscription
//   GET    /api/v2/eventstreams/{id}          -> subscription
//   DELETE /api/v2/eventstreams/{id}          -> 204
//   GET    /api/v2/eventstreams/{id}/poll?cursor=&limit=  -> {events, cursor, hasMore}
//
// Every world change that passes a stream's subscription filter is appended to that stream's
// bounded buffer (retention), so a poll with an old cursor returns what followed it; a cursor whose
// successors were already evicted answers 410 {code:'cursor.expired'}: the consumer must not
// silently skip. Each event is recorded in the ledger (path 'eventstream', eventId = event id) when
// it enters a stream, i.e. when it became deliverable; `served` counts what polls returned.
// Rate limit: fixed window per access token over these routes; every answer carries
// X-RateLimit-Limit/-Remaining/-Reset and inin-ratelimit-allowed/-count/-reset; beyond it 429 + Retry-After.
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { EventStreamEvent } from '../../lib/genesys/shapes';
import type { GenesysSimulator } from '../server';
import { faultBody, sendJson } from '../server';
import type { ConversationChange, SimConversation } from '../world';

export interface EventStreamEventType { entityType: 'interaction' | 'agentstate'; eventType: 'created' | 'updated'; filter?: string | Record<string, unknown> }

export interface EventStreamSubscription {
  id: string;
  name: string;
  description?: string;
  eventTypes: EventStreamEventType[];
  dateCreated: string;
}

interface BufferedEvent { seq: number; event: EventStreamEvent | Record<string, unknown> }

export interface SimEventStream {
  subscription: EventStreamSubscription;
  /** Parsed filters, one per eventTypes entry. */
  filters: (Record<string, unknown> | null)[];
  buffer: BufferedEvent[];
  /** Sequence number the next appended event gets; cursors carry the last consumed one. */
  nextSeq: number;
  /** Every event id ever appended, in order (tests compare emitted output with it). */
  published: string[];
  /** Events returned by polls, counting repeats. */
  served: number;
  polls: number;
}

/** A canned answer for the next poll, for bad-response tests. */
export interface PollOverride { status?: number; body?: unknown; rawBody?: string; headers?: Record<string, string> }

/** Test hooks, reachable as sim.state.eventstreams. */
export class EventStreamsState {
  readonly streams = new Map<string, SimEventStream>();
  /** Events kept per stream; older ones are evicted (a cursor pointing before them answers 410). */
  retention = 10_000;
  defaultPageSize = 100;
  maxPageSize = 1000;
  /** Requests per window per access token over the eventstream routes (platform default 300/min). */
  rateLimit = { limit: 300, windowMs: 60_000 };
  /** Answers for the next polls, consumed in order, before the rate limit and the real answer. */
  readonly pollOverrides: PollOverride[] = [];
  /** Delay before answering each poll (ms), for tests that need a request in flight. */
  pollDelayMs = 0;
  /** Every poll request (time, stream, answer status), the latest 10 000, for timing tests. */
  readonly pollLog: { at: number; streamId: string; status: number }[] = [];
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly sim: GenesysSimulator) {}

  createStream(name: string, eventTypes: EventStreamEventType[], description?: string): SimEventStream {
    const subscription: EventStreamSubscription = { id: randomUUID(), name, description, eventTypes, dateCreated: new Date().toISOString() };
    const stream: SimEventStream = {
      subscription, filters: eventTypes.map((t) => parseFilter(t.filter)), buffer: [], nextSeq: 1, published: [], served: 0, polls: 0,
    };
    this.streams.set(subscription.id, stream);
    return stream;
  }

  /** Appends an event to a stream (tests may append hand-made events, well formed or not). */
  append(stream: SimEventStream, event: EventStreamEvent | Record<string, unknown>, opts: { malformed?: boolean; duplicate?: boolean } = {}): void {
    const copies = opts.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) stream.buffer.push({ seq: stream.nextSeq++, event });
    const id = String(event.id);
    stream.published.push(id);
    const entity = (event as EventStreamEvent).entity;
    this.sim.ledger.record({
      path: 'eventstream', eventId: id, conversationId: String(entity?.conversationId ?? entity?.id ?? ''), seq: Number(entity?.sequence ?? 0),
      delivered: true, malformed: opts.malformed || undefined, payload: event,
    });
    while (stream.buffer.length > this.retention) stream.buffer.shift();
  }

  /** Sequence of the oldest retained event (nextSeq when empty). */
  firstSeq(stream: SimEventStream): number {
    return stream.buffer.length ? stream.buffer[0].seq : stream.nextSeq;
  }

  /** Counts one request for the token; returns the headers to send and whether it is over the limit. */
  take(token: string): { headers: Record<string, string>; limited: boolean; retryAfter: number } {
    const now = Date.now();
    let w = this.windows.get(token);
    if (!w || now - w.start >= this.rateLimit.windowMs) { w = { start: now, count: 0 }; this.windows.set(token, w); }
    w.count++;
    const { limit, windowMs } = this.rateLimit;
    const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    const remaining = Math.max(0, limit - w.count);
    const headers = {
      'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(resetSeconds),
      'inin-ratelimit-allowed': String(limit), 'inin-ratelimit-count': String(Math.min(w.count, limit)), 'inin-ratelimit-reset': String(resetSeconds),
    };
    return { headers, limited: w.count > limit, retryAfter: resetSeconds };
  }

  /** Resets every rate-limit window (tests). */
  resetRateLimit(): void { this.windows.clear(); }

  onChange(change: ConversationChange): void {
    const delivery = change.delivery;
    const deliver = (): void => { for (const stream of this.streams.values()) this.deliver(stream, change); };
    if (delivery?.delayMs) {
      const t = setTimeout(() => { this.timers.delete(t); deliver(); }, delivery.delayMs);
      this.timers.add(t);
    } else deliver();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Waits ms on a timer that stop() clears (the request then never completes; the server drops its socket). */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.timers.delete(t); resolve(); }, ms);
      this.timers.add(t);
    });
  }

  private deliver(stream: SimEventStream, change: ConversationChange): void {
    const candidates = [interactionEvent(change), agentStateEvent(change)].filter((e): e is EventStreamEvent => e !== null);
    for (const event of candidates) {
      const idx = stream.subscription.eventTypes.findIndex((t, i) =>
        t.entityType === event.entityType && t.eventType === event.eventType && matches(stream.filters[i], event.entity));
      if (idx < 0) continue;
      const malformed = !!change.delivery?.malformed;
      // A broken rendering keeps its id (traceable in the ledger) but lacks timestamp and entity.
      const body = malformed ? { id: event.id, entityType: event.entityType, eventType: event.eventType, entity: '{"id":"' + event.entity.id + '","stat' } : event;
      this.append(stream, body, { malformed, duplicate: change.delivery?.duplicate });
    }
  }
}

const STATUS: Record<SimConversation['state'], string> = {
  queued: 'queued', alerting: 'alerting', connected: 'connected', held: 'held', wrapup: 'disconnected', ended: 'completed',
};

function ms(from?: string, to?: string): number | undefined {
  return from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined;
}

function interactionEvent(change: ConversationChange): EventStreamEvent {
  const c = change.conversation;
  return {
    id: randomUUID(), entityType: 'interaction', eventType: change.kind === 'start' ? 'created' : 'updated', timestamp: change.at,
    entity: {
      ...(c.drift ?? {}),
      id: c.id, mediaType: c.mediaType, direction: c.direction, status: STATUS[c.state], queueId: c.queueId, queueName: c.queueName,
      agentId: c.agentId, agentName: c.agentName, sequence: c.seq,
      waitTimeMs: ms(c.startTime, c.connectedTime), talkTimeMs: ms(c.connectedTime, c.wrapupStartTime ?? c.endTime), wrapUpTimeMs: ms(c.wrapupStartTime, c.endTime),
    },
  };
}

/** An agent's state follows the conversation it handles: busy while connected, wrapup, then available. */
function agentStateEvent(change: ConversationChange): EventStreamEvent | null {
  const c = change.conversation;
  if (!c.agentId || change.kind === 'start') return null;
  const status = c.state === 'connected' || c.state === 'held' ? 'busy' : c.state === 'wrapup' ? 'wrapup' : c.state === 'ended' ? 'available' : null;
  if (!status) return null;
  return {
    id: randomUUID(), entityType: 'agentstate', eventType: 'updated', timestamp: change.at,
    entity: { id: c.agentId, agentName: c.agentName, status, conversationId: c.id, sequence: c.seq },
  };
}

function parseFilter(filter: EventStreamEventType['filter']): Record<string, unknown> | null {
  if (filter === undefined || filter === null || filter === '') return null;
  const f = typeof filter === 'string' ? JSON.parse(filter) : filter;
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw new Error('filter must be a JSON object');
  return f as Record<string, unknown>;
}

/** Each filter key must match the entity field: equal, or one of an array (strings case-insensitively). */
function matches(filter: Record<string, unknown> | null, entity: Record<string, unknown>): boolean {
  if (!filter) return true;
  const eq = (a: unknown, b: unknown): boolean => (typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b);
  return Object.entries(filter).every(([k, want]) => (Array.isArray(want) ? want.some((w) => eq(entity[k], w)) : eq(entity[k], want)));
}

function encodeCursor(streamId: string, seq: number): string {
  return Buffer.from(JSON.stringify({ s: streamId, q: seq })).toString('base64url');
}

function decodeCursor(cursor: string): { s: string; q: number } | null {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return c && typeof c.s === 'string' && Number.isInteger(c.q) && c.q >= 0 ? c : null;
  } catch { return null; }
}

function validEventTypes(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return 'eventTypes must be a non-empty array';
  for (const t of v) {
    if (!t || !['interaction', 'agentstate'].includes(t.entityType)) return 'eventTypes[].entityType must be interaction or agentstate';
    if (!['created', 'updated'].includes(t.eventType)) return 'eventTypes[].eventType must be created or updated';
    try { parseFilter(t.filter); } catch (err) { return `eventTypes[].filter is not a JSON object: ${(err as Error).message}`; }
  }
  return null;
}

function badRequest(res: http.ServerResponse, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, 400, { message, code: 'bad.request', status: 400 }, headers);
}

export function registerEventStreams(sim: GenesysSimulator): void {
  const state = new EventStreamsState(sim);
  sim.state.eventstreams = state;
  const onChange = (c: ConversationChange): void => state.onChange(c);
  sim.world.on('change', onChange);
  sim.onStop(() => { sim.world.off('change', onChange); state.stop(); });

  /** Applies the rate limit; returns the headers to send, or null after answering 429. */
  const limit = (req: http.IncomingMessage, res: http.ServerResponse): Record<string, string> | null => {
    const r = state.take(sim.checkToken(req) ?? '');
    if (!r.limited) return r.headers;
    sendJson(res, 429, faultBody(429, r.retryAfter), { ...r.headers, 'retry-after': String(r.retryAfter) });
    return null;
  };

  sim.route('POST', '/api/v2/eventstreams', (req, res, ctx) => {
    const headers = limit(req, res);
    if (!headers) return;
    const b = ctx.body;
    if (!b || typeof b !== 'object' || typeof b.name !== 'string' || !b.name) { badRequest(res, 'name is required', headers); return; }
    const problem = validEventTypes(b.eventTypes);
    if (problem) { badRequest(res, problem, headers); return; }
    const eventTypes = (b.eventTypes as EventStreamEventType[]).map(({ entityType, eventType, filter }) => ({ entityType, eventType, filter }));
    const stream = state.createStream(b.name, eventTypes, typeof b.description === 'string' ? b.description : undefined);
    sendJson(res, 201, stream.subscription, headers);
  });

  sim.route('GET', '/api/v2/eventstreams/:id', (req, res, ctx) => {
    const headers = limit(req, res);
    if (!headers) return;
    const stream = state.streams.get(ctx.params.id);
    if (!stream) { sendJson(res, 404, { message: 'event stream not found', code: 'not.found', status: 404 }, headers); return; }
    sendJson(res, 200, stream.subscription, headers);
  });

  sim.route('DELETE', '/api/v2/eventstreams/:id', (req, res, ctx) => {
    const headers = limit(req, res);
    if (!headers) return;
    if (!state.streams.delete(ctx.params.id)) { sendJson(res, 404, { message: 'event stream not found', code: 'not.found', status: 404 }, headers); return; }
    res.writeHead(204, headers);
    res.end();
  });

  sim.route('GET', '/api/v2/eventstreams/:id/poll', async (req, res, ctx) => {
    const entry = { at: Date.now(), streamId: ctx.params.id, status: 0 };
    state.pollLog.push(entry);
    if (state.pollLog.length > 10_000) state.pollLog.shift();
    res.once('finish', () => { entry.status = res.statusCode; });
    if (state.pollDelayMs > 0) await state.delay(state.pollDelayMs);
    const override = state.pollOverrides.shift();
    if (override) {
      const text = override.rawBody ?? JSON.stringify(override.body ?? {});
      res.writeHead(override.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...override.headers });
      res.end(text);
      return;
    }
    const headers = limit(req, res);
    if (!headers) return;
    const stream = state.streams.get(ctx.params.id);
    if (!stream) { sendJson(res, 404, { message: 'event stream not found', code: 'not.found', status: 404 }, headers); return; }
    const limitParam = ctx.query.get('limit');
    const pageSize = limitParam === null ? state.defaultPageSize : Number(limitParam);
    if (!Number.isInteger(pageSize) || pageSize < 1) { badRequest(res, 'limit must be a positive integer', headers); return; }
    const cursorParam = ctx.query.get('cursor');
    const first = state.firstSeq(stream);
    let after = first - 1;
    if (cursorParam) {
      const c = decodeCursor(cursorParam);
      if (!c || c.s !== stream.subscription.id || c.q >= stream.nextSeq) { badRequest(res, 'invalid cursor', headers); return; }
      if (c.q < first - 1) {
        sendJson(res, 410, { message: `cursor expired: ${first - 1 - c.q} events after it are no longer retained`, code: 'cursor.expired', status: 410 }, headers);
        return;
      }
      after = c.q;
    }
    const start = after - first + 1;
    const page = stream.buffer.slice(start, start + Math.min(pageSize, state.maxPageSize));
    const last = page.length ? page[page.length - 1].seq : after;
    stream.polls++;
    stream.served += page.length;
    sendJson(res, 200, { events: page.map((p) => p.event), cursor: encodeCursor(stream.subscription.id, last), hasMore: last < stream.nextSeq - 1 }, headers);
  });
}
