// Simulator: events ingest, guide 003. POST /api/v2/events/ingest with {events:[...]} (bearer token):
// 413 over the body limit (1 MB), 400 with an errors array when any event fails the shipped schema
// (the whole request is rejected, as the guide says), 429 with Retry-After (every Nth request, a
// token bucket, or too many requests at once), 200 {requestId, accepted} otherwise. Genesys Cloud has
// no such endpoint (../shared/GENESYS-API.md): it is served in both modes.
// Tests tune it through ingestState(sim).options and read what it received from ingestState(sim).
import { randomUUID } from 'node:crypto';
import type { GenesysSimulator } from '../server';
import { sendJson } from '../server';
import { ingestEventKey, validateIngestEvent, type IngestEvent } from '../../lib/genesys/ingest/schema';

export const INGEST_ROUTE = '/api/v2/events/ingest';

export interface IngestSimOptions {
  /** Bodies larger than this answer 413. Default 1 000 000. */
  maxBodyBytes: number;
  /** Time each accepted request takes (ms), so concurrency can be observed. Default 0. */
  processingDelayMs: number;
  /** 429 on every Nth request (0: off). */
  rateLimitEveryNth: number;
  /** Token bucket: requests per second and burst (null: off). */
  tokenBucket: { perSecond: number; burst: number } | null;
  /** More requests than this at once answer 429 (0: off), guide 003's concurrent-request limit. */
  maxConcurrent: number;
  /** Retry-After of a 429 (seconds; the token bucket computes its own when null). */
  retryAfterSeconds: number | null;
  /** Keep the events of each batch in state.batches (turn off for benchmarks). Default true. */
  keepEvents: boolean;
}

export interface IngestSimBatch {
  requestId: string;
  at: number;
  bytes: number;
  count: number;
  interactionIds: string[];
  events?: IngestEvent[];
}

export interface IngestSimState {
  options: IngestSimOptions;
  /** Accepted requests, in the order they were accepted. */
  batches: IngestSimBatch[];
  acceptedEvents: number;
  /** Requests that reached the route (after authentication), and answers by status. */
  requests: number;
  answers: Record<number, number>;
  inFlight: number;
  maxInFlight: number;
  /** Clears counters and batches (options stay). */
  reset(): void;
}

const DEFAULTS: IngestSimOptions = {
  maxBodyBytes: 1_000_000, processingDelayMs: 0, rateLimitEveryNth: 0, tokenBucket: null, maxConcurrent: 0,
  retryAfterSeconds: null, keepEvents: true,
};

export function ingestState(sim: GenesysSimulator): IngestSimState {
  if (!sim.state.ingest) {
    const st: IngestSimState = {
      options: { ...DEFAULTS },
      batches: [], acceptedEvents: 0, requests: 0, answers: {}, inFlight: 0, maxInFlight: 0,
      reset() {
        st.batches = []; st.acceptedEvents = 0; st.requests = 0; st.answers = {}; st.maxInFlight = st.inFlight;
      },
    };
    sim.state.ingest = st;
  }
  return sim.state.ingest as IngestSimState;
}

export function registerIngest(sim: GenesysSimulator): void {
  const st = ingestState(sim);
  const bucket = { tokens: 0, at: 0, config: null as IngestSimOptions['tokenBucket'] };
  let seq = 0;
  const timers = new Set<NodeJS.Timeout>();
  sim.onStop(() => { for (const t of timers) clearTimeout(t); timers.clear(); });

  const answer = (res: Parameters<typeof sendJson>[0], status: number, body: unknown, headers: Record<string, string> = {}): void => {
    st.answers[status] = (st.answers[status] ?? 0) + 1;
    if (!res.destroyed) sendJson(res, status, body, headers);
  };
  const tooMany = (res: Parameters<typeof sendJson>[0], seconds: number, why: string): void => {
    answer(res, 429, {
      message: `Rate limit exceeded the maximum (${why}). Retry the request in [${seconds}] seconds`,
      code: 'too.many.requests.retry.after', status: 429,
    }, { 'retry-after': String(seconds) });
  };
  /** Seconds until the bucket has a token again, or 0 when one was taken. */
  const takeToken = (cfg: NonNullable<IngestSimOptions['tokenBucket']>): number => {
    const now = Date.now();
    if (bucket.config !== cfg) { bucket.config = cfg; bucket.tokens = cfg.burst; bucket.at = now; }
    bucket.tokens = Math.min(cfg.burst, bucket.tokens + ((now - bucket.at) / 1000) * cfg.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) { bucket.tokens -= 1; return 0; }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / cfg.perSecond));
  };

  sim.route('POST', INGEST_ROUTE, async (_req, res, ctx) => {
    const o = st.options;
    st.requests++;
    st.inFlight++;
    st.maxInFlight = Math.max(st.maxInFlight, st.inFlight);
    try {
      if (ctx.rawBody.length > o.maxBodyBytes) {
        answer(res, 413, { message: `Request body of ${ctx.rawBody.length} bytes exceeds the ${o.maxBodyBytes}-byte limit`, code: 'payload.too.large', status: 413 });
        return;
      }
      if (o.maxConcurrent > 0 && st.inFlight > o.maxConcurrent) { tooMany(res, o.retryAfterSeconds ?? 1, 'concurrent requests'); return; }
      if (o.rateLimitEveryNth > 0 && st.requests % o.rateLimitEveryNth === 0) { tooMany(res, o.retryAfterSeconds ?? 1, 'request rate'); return; }
      if (o.tokenBucket) {
        const wait = takeToken(o.tokenBucket);
        if (wait > 0) { tooMany(res, o.retryAfterSeconds ?? wait, 'request rate'); return; }
      }
      const errors = validateBody(ctx.body);
      if (errors.length) {
        answer(res, 400, { message: `The request body does not match the ingest schema (${errors.length} error(s))`, code: 'bad.request', status: 400, errors });
        return;
      }
      if (o.processingDelayMs > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { timers.delete(t); resolve(); }, o.processingDelayMs);
          timers.add(t);
        });
      }
      const events = (ctx.body as { events: IngestEvent[] }).events;
      const requestId = randomUUID();
      st.batches.push({
        requestId, at: Date.now(), bytes: ctx.rawBody.length, count: events.length,
        interactionIds: [...new Set(events.map((e) => e.interactionId))], ...(o.keepEvents ? { events } : {}),
      });
      st.acceptedEvents += events.length;
      for (const e of events) {
        sim.ledger.record({ path: 'ingest', eventId: ingestEventKey(e), conversationId: e.interactionId, seq: ++seq, delivered: true });
      }
      answer(res, 200, { requestId, accepted: events.length });
    } finally {
      st.inFlight--;
    }
  });
}

/** Problems of a request body: [{index, path, message}] (index absent for envelope problems). */
function validateBody(body: unknown): { index?: number; path: string; message: string }[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [{ path: '', message: 'body must be a JSON object {"events": [...]}' }];
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) return [{ path: '/events', message: 'events must be an array' }];
  if (events.length === 0) return [{ path: '/events', message: 'events must not be empty' }];
  const extra = Object.keys(body).filter((k) => k !== 'events');
  const out: { index?: number; path: string; message: string }[] = extra.map((k) => ({ path: `/${k}`, message: 'is not a known field' }));
  events.forEach((e, index) => {
    const p = validateIngestEvent(e);
    if (p) out.push({ index, path: `/events/${index}${p.path}`, message: p.message });
  });
  return out;
}
