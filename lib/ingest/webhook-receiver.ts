// One webhook request from start to answer: JWT → backpressure → content type → bounded body →
// JSON → envelopes → emit → (after delivery) wait for settlement → answer. The same handler serves
// the route on RED.httpNode and the optional dedicated node:http listener.
// Answers (the sender's retry policy depends on them, guide 000):
//   200 accepted (on receipt: emitted; after delivery: every event settled)
//   400 bad JSON/UTF-8/shape/nesting, 413 too big, 415 wrong content type: never retried, so only for bodies that can never succeed
//   408 + Connection: close: the body did not arrive within bodyTimeoutMs (a slow sender)
//   500: an unexpected failure while emitting (the sender retries; the process stays up)
//   401 + WWW-Authenticate: token refused (the reason is counted, never told)
//   503/429 + Retry-After: overloaded, not settled in time, or no secret configured: the sender retries
import type { IncomingMessage, ServerResponse } from 'node:http';
import { consumedBody, contentTypeProblem, describeEvent, eventsOf, parseEvents, readBody, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT_MS, type EventInfo, type ParseResult } from './body';
import { MAX_JSON_DEPTH } from './json-depth';
import { deliveryTracker as sharedTracker, type DeliveryTracker } from './delivery-tracker';
import type { JwtClaims, JwtFailure, JwtVerifier } from './jwt';

export type AckMode = 'delivery' | 'receipt';

export interface ReceivedBatch {
  events: Record<string, any>[];
  infos: EventInfo[];
  /** One per event in "after delivery" mode (msg.genesys.deliveryId). */
  deliveryIds?: string[];
  claims: JwtClaims;
  receivedAt: string;
}

export interface WebhookReceiverOptions {
  verifier: JwtVerifier;
  emit: (batch: ReceivedBatch) => void;
  ack?: AckMode;
  tracker?: DeliveryTracker;
  /** Settlements per event before the answer (2 for a raw + normalized dual write). */
  expectedSettlements?: number;
  ackTimeoutMs?: number;
  /** Unsettled events (process-wide) above which requests are refused with Retry-After; 0 = no bound. */
  maxUnsettled?: number;
  overloadStatus?: 503 | 429;
  bodyLimit?: number;
  /** Time for the whole body to arrive after the headers, ms (0 = no limit). Default 15 000. */
  bodyTimeoutMs?: number;
  maxEventsPerRequest?: number;
  /** Deeper nesting is refused with 400 (it would overflow the stack of recursive clones downstream). Default 100. */
  maxDepth?: number;
}

export interface ReceiverStats {
  requests: number;
  events: number;
  authFailures: number;
  authFailuresByReason: Partial<Record<JwtFailure, number>>;
  badRequests: number;
  tooLarge: number;
  unsupportedType: number;
  overloaded: number;
  timedOut: number;
  /** Bodies that did not arrive in time (408). */
  slowBodies: number;
  /** Unexpected failures answered 500. */
  failures: number;
}

const WWW_AUTH_MISSING = 'Bearer realm="genesys-webhook"';
const WWW_AUTH_INVALID = 'Bearer realm="genesys-webhook", error="invalid_token"';

export class WebhookReceiver {
  readonly stats: ReceiverStats = {
    requests: 0, events: 0, authFailures: 0, authFailuresByReason: {}, badRequests: 0, tooLarge: 0, unsupportedType: 0, overloaded: 0, timedOut: 0,
    slowBodies: 0, failures: 0,
  };
  private readonly pending = new Set<ServerResponse>();
  private readonly tracker: DeliveryTracker;
  private readonly ack: AckMode;
  private closed = false;

  constructor(private readonly opts: WebhookReceiverOptions) {
    this.tracker = opts.tracker ?? sharedTracker;
    this.ack = opts.ack ?? 'delivery';
  }

  /** True while the process-wide unsettled count is over the bound. */
  get overloaded(): boolean {
    const max = this.opts.maxUnsettled ?? 0;
    return this.ack === 'delivery' && max > 0 && this.tracker.unsettled >= max;
  }

  /** Requests waiting for settlement. */
  get waiting(): number { return this.pending.size; }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Answered before its body arrived (401, 415, 503...): Node drains the rest to keep the connection,
    // for as long as the sender trickles it. Bound that like a body we read ourselves.
    res.once('finish', () => { if (!req.complete) this.limitDrain(req); });
    // Nothing a request does may throw into the HTTP server (on the dedicated listener that is an uncaught exception).
    try {
      this.receive(req, res);
    } catch {
      this.failed(res);
    }
  };

  private receive(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    if (this.closed) { this.retryLater(res, 503, 1); return; }
    const auth = this.opts.verifier.verifyAuthorization(req.headers.authorization);
    if (!auth.ok) {
      if (auth.reason === 'no-secret') { this.retryLater(res, 503, 30); return; }
      this.stats.authFailures++;
      this.stats.authFailuresByReason[auth.reason] = (this.stats.authFailuresByReason[auth.reason] ?? 0) + 1;
      answer(res, 401, '{"error":"unauthorized"}', { 'www-authenticate': auth.reason === 'missing' ? WWW_AUTH_MISSING : WWW_AUTH_INVALID });
      return;
    }
    if (this.overloaded) {
      this.stats.overloaded++;
      this.retryLater(res, this.opts.overloadStatus ?? 503, this.retryAfterSeconds());
      return;
    }
    const typeProblem = contentTypeProblem(req);
    if (typeProblem) {
      this.stats.unsupportedType++;
      answer(res, 415, JSON.stringify({ error: typeProblem }));
      return;
    }
    const limit = this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
    const consumed = consumedBody(req);
    if (consumed) {
      const length = 'raw' in consumed ? consumed.raw.length : Number(req.headers['content-length'] ?? 0);
      if (length > limit) {
        this.stats.tooLarge++;
        answer(res, 413, JSON.stringify({ error: `body over ${limit} bytes` }));
        return;
      }
      const depth = this.opts.maxDepth ?? MAX_JSON_DEPTH;
      this.parsed(res, 'raw' in consumed ? parseEvents(consumed.raw, this.opts.maxEventsPerRequest, depth) : eventsOf(consumed.value, this.opts.maxEventsPerRequest, depth), auth.claims);
      return;
    }
    readBody(req, limit, this.opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS).then((body) => {
      if (!body.ok) {
        if (body.status === 413 || body.status === 408) {
          if (body.status === 413) this.stats.tooLarge++;
          else this.stats.slowBodies++;
          // Close the connection: the rest of the body is never read.
          answer(res, body.status, JSON.stringify({ error: body.reason }), { connection: 'close' });
        } else {
          this.stats.badRequests++;
          answer(res, 400, JSON.stringify({ error: body.reason }));
        }
        return;
      }
      this.parsed(res, parseEvents(body.body, this.opts.maxEventsPerRequest, this.opts.maxDepth ?? MAX_JSON_DEPTH), auth.claims);
    }, () => answer(res, 400, '{"error":"request aborted"}')).catch(() => this.failed(res));
  }

  /** Drops the connection if the rest of an unwanted body has not arrived within the body timeout. */
  private limitDrain(req: IncomingMessage): void {
    const ms = this.opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    if (ms <= 0 || req.destroyed) return;
    const timer = setTimeout(() => { if (!req.complete) req.socket?.destroy(); }, ms);
    timer.unref();
    req.once('close', () => clearTimeout(timer));
  }

  /** An unexpected exception (e.g. from a node downstream of emit): 500, so the sender retries. */
  private failed(res: ServerResponse): void {
    this.stats.failures++;
    this.pending.delete(res);
    answer(res, 500, '{"error":"internal error"}');
  }

  private parsed(res: ServerResponse, parsed: ParseResult, claims: JwtClaims): void {
    if (!parsed.ok) {
      this.stats.badRequests++;
      answer(res, 400, JSON.stringify({ error: parsed.reason }));
      return;
    }
    this.accept(res, parsed.events, claims);
  }

  private accept(res: ServerResponse, events: Record<string, any>[], claims: JwtClaims): void {
    const infos = events.map(describeEvent);
    const receivedAt = new Date().toISOString();
    this.stats.events += events.length;
    if (this.ack === 'receipt') {
      this.opts.emit({ events, infos, claims, receivedAt });
      answer(res, 200, `{"accepted":${events.length}}`);
      return;
    }
    const { ids, result } = this.tracker.open(events.length, this.opts.ackTimeoutMs ?? 10000, this.opts.expectedSettlements ?? 1);
    this.pending.add(res);
    result.then((r) => {
      if (!this.pending.delete(res)) return; // answered by close()
      if (r.ok) answer(res, 200, `{"accepted":${events.length}}`);
      else {
        this.stats.timedOut++;
        this.retryLater(res, 503, this.retryAfterSeconds());
      }
    }, () => undefined);
    this.opts.emit({ events, infos, deliveryIds: ids, claims, receivedAt });
  }

  /** Seconds until the backlog has drained to half the bound at the current settlement rate. */
  retryAfterSeconds(): number {
    const rate = this.tracker.drainRate;
    const max = this.opts.maxUnsettled ?? 0;
    const backlog = Math.max(0, this.tracker.unsettled - max / 2);
    if (rate <= 0) return Math.max(1, Math.ceil((this.opts.ackTimeoutMs ?? 10000) / 2000));
    return Math.min(60, Math.max(1, Math.ceil(backlog / rate)));
  }

  private retryLater(res: ServerResponse, status: number, seconds: number): void {
    answer(res, status, '{"error":"retry later"}', { 'retry-after': String(seconds) });
  }

  /** Stops accepting; requests still waiting for settlement get 503 so their sender retries. */
  close(): void {
    this.closed = true;
    for (const res of this.pending) this.retryLater(res, 503, 1);
    this.pending.clear();
  }
}

function answer(res: ServerResponse, status: number, body: string, headers?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
