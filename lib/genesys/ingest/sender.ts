// Sends batches to POST /api/v2/events/ingest with at most `concurrency` requests in flight and
// settles every event exactly once: accepted when Genesys accepted its batch, or failed with why.
// Guide 003's loop retries 401 forever, multiplies Retry-After and sleeps a fixed 2 s on network
// errors; here: 401 gets one fresh token and one retry (inside the API client), 429 waits what
// Retry-After says, 5xx/timeouts/connection errors back off with jitter for a bounded number of
// attempts, a 413 splits the batch in half, a 400 naming events fails those and resends the rest.
import { EventEmitter } from 'node:events';
import type { GenesysApi } from '../types';
import { AbortedError, sleep } from '../backoff';
import { ReconnectPolicy, type ReconnectOptions } from '../reconnect';
import { IngestBatcher, splitBatch, subBatch, type Batch } from './batcher';
import { bodyBytes, INGEST_PATH, IngestError, type AuditRecord, type BatchOutcome, type IngestErrorKind, type QueuedEvent } from './types';

export interface IngestSenderOptions {
  api: GenesysApi;
  /** Default /api/v2/events/ingest (the base URL is the API client's). */
  path?: string;
  /** Byte budget of one request body. Default 500 000. */
  batchBytes?: number;
  /** The endpoint's hard limit: a single event needing a larger body fails without a request. Default 1 000 000. */
  maxRequestBytes?: number;
  /** Longest wait for more events before a partial batch goes out (ms). Default 50. */
  lingerMs?: number;
  /** Requests in flight at most. Default 5. */
  concurrency?: number;
  /** Attempts per batch on 5xx, 408, timeouts and connection errors. Default 5. */
  maxAttempts?: number;
  /** 429 answers waited out per batch before its events fail. Default 10. */
  maxRateLimitRetries?: number;
  /** Per-request timeout (ms). Default 15 000. */
  requestTimeoutMs?: number;
  /** Backoff between transient failures. Default 500 ms doubling to 30 s, full jitter, at least 100 ms. */
  retry?: ReconnectOptions;
  /** Events waiting (queued and in flight) at most; beyond, new events fail at once. Default 100 000. */
  maxQueued?: number;
  random?: () => number;
}

export interface SenderStats {
  acceptedEvents: number;
  acceptedBatches: number;
  failedEvents: number;
  requests: number;
}

/**
 * Events: 'audit' (AuditRecord) per finished batch; 'accepted' (events: number);
 * 'failure' (IngestError) per failed batch; 'budget' (bytes) when a 413 lowered the batch budget.
 */
export class IngestSender extends EventEmitter {
  readonly stats: SenderStats = { acceptedEvents: 0, acceptedBatches: 0, failedEvents: 0, requests: 0 };
  private readonly api: GenesysApi;
  private readonly path: string;
  private readonly batcher: IngestBatcher;
  private readonly maxRequestBytes: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly maxRateLimitRetries: number;
  private readonly requestTimeoutMs: number;
  private readonly retry: ReconnectOptions;
  private readonly maxQueued: number;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private inFlight = 0;
  private inFlightEvents = 0;
  private closing = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(o: IngestSenderOptions) {
    super();
    this.api = o.api;
    this.path = o.path || INGEST_PATH;
    this.maxRequestBytes = o.maxRequestBytes ?? 1_000_000;
    this.batcher = new IngestBatcher({ budgetBytes: Math.min(o.batchBytes ?? 500_000, this.maxRequestBytes), lingerMs: o.lingerMs ?? 50 });
    this.concurrency = Math.max(1, Math.floor(o.concurrency ?? 5));
    this.maxAttempts = Math.max(1, Math.floor(o.maxAttempts ?? 5));
    this.maxRateLimitRetries = Math.max(0, Math.floor(o.maxRateLimitRetries ?? 10));
    this.requestTimeoutMs = o.requestTimeoutMs ?? 15_000;
    this.retry = { initialMs: 500, maxMs: 30_000, minMs: 100, ...o.retry };
    this.maxQueued = Math.max(1, Math.floor(o.maxQueued ?? 100_000));
    this.random = o.random ?? Math.random;
  }

  /** Events queued or in flight. */
  get queued(): number {
    return this.batcher.size + this.inFlightEvents;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Current byte budget of a batch (lower than configured after a 413). */
  get budget(): number {
    return this.batcher.budget;
  }

  /** True once close() was called: new events fail with kind 'closed'. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Room for n more events? (lets a caller refuse a whole message instead of part of it) */
  hasRoom(n: number): boolean {
    return this.queued + n <= this.maxQueued;
  }

  /** Queues one event; q.settle is called once, now (too large, queue full, closed) or when its batch ends. */
  enqueue(q: QueuedEvent): void {
    if (this.closing) {
      q.settle({ ok: false, error: new IngestError('genesys-events-out is closing: event not sent', 'closed') });
    } else if (bodyBytes(q.bytes, 1) > this.maxRequestBytes) {
      q.settle({ ok: false, error: new IngestError(`event is ${q.bytes} bytes: larger than the ${this.maxRequestBytes}-byte request limit, not sent`, 'too-large', 413) });
    } else if (this.queued >= this.maxQueued) {
      q.settle({ ok: false, error: new IngestError(`ingest queue full (${this.maxQueued} events waiting): event not sent`, 'queue-full') });
    } else {
      this.batcher.add(q);
      this.pump();
    }
  }

  /**
   * Sends what is queued without waiting for the linger time, waits up to timeoutMs for every
   * batch to finish, then aborts the rest: each event still waiting fails with kind 'closed'.
   */
  async close(timeoutMs: number): Promise<{ unsent: number }> {
    this.closing = true;
    this.clearLinger();
    this.pump();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.whenIdle().then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), Math.max(0, timeoutMs)); }),
    ]);
    clearTimeout(timer);
    let unsent = 0;
    if (timedOut) {
      const left = this.batcher.drain();
      unsent = left.length + this.inFlightEvents;
      for (const q of left) this.fail(q, new IngestError('genesys-events-out closed before this event was sent', 'closed'));
      this.abort.abort(); // in-flight requests and their waits end now; run() fails their events
      // A token request cannot be aborted: do not let one hold the close (its events fail when it returns).
      await Promise.race([this.whenIdle(), new Promise<void>((r) => { timer = setTimeout(r, 1000); })]);
      clearTimeout(timer);
    }
    this.abort.abort();
    return { unsent };
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0 && this.batcher.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && !this.abort.signal.aborted) {
      const batch = this.batcher.next(this.closing);
      if (!batch) break;
      this.inFlight++;
      this.inFlightEvents += batch.items.length;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.inFlightEvents -= batch.items.length;
        this.pump();
        if (this.inFlight === 0 && this.batcher.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
    this.armLinger();
  }

  /** One timer for the oldest waiting event, only while a request slot is free to send it. */
  private armLinger(): void {
    if (this.lingerTimer || this.closing || this.inFlight >= this.concurrency) return;
    const ms = this.batcher.msUntilDue();
    if (ms === undefined) return;
    this.lingerTimer = setTimeout(() => { this.lingerTimer = null; this.pump(); }, ms);
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  /** Sends one batch until it is accepted, split, or failed; never throws. */
  private async run(batch: Batch): Promise<void> {
    const started = Date.now();
    const policy = new ReconnectPolicy({ ...this.retry, random: this.random });
    let attempts = 0;
    let rateLimited = 0;
    let transient = 0;
    const end = (outcome: BatchOutcome, status: number, error?: IngestError): void => {
      this.emit('audit', audit(batch, outcome, status, attempts, Date.now() - started, error));
      if (error) this.emit('failure', error);
    };
    const failAll = (kind: IngestErrorKind, message: string, status: number, body?: unknown, outcome: BatchOutcome = 'failed'): void => {
      const error = new IngestError(message, kind, status, body, batch.id);
      for (const q of batch.items) this.fail(q, error);
      end(outcome, status, error);
    };
    for (;;) {
      attempts++;
      this.stats.requests++;
      let err: { status?: number; body?: unknown; retryAfterMs?: number; message?: string; name?: string };
      try {
        const res = await this.api.request({
          method: 'POST', path: this.path, body: { events: batch.items.map((q) => q.event) },
          maxRetries: 0, timeoutMs: this.requestTimeoutMs, signal: this.abort.signal,
        });
        this.stats.acceptedEvents += batch.items.length;
        this.stats.acceptedBatches++;
        for (const q of batch.items) q.settle({ ok: true, batchId: batch.id });
        end('accepted', res.status);
        this.emit('accepted', batch.items.length);
        return;
      } catch (e) {
        err = (e ?? {}) as typeof err;
      }
      const status = typeof err.status === 'number' ? err.status : 0;
      const message = err.message || String(err);
      if (this.abort.signal.aborted) {
        failAll('closed', `genesys-events-out closed while the batch was in flight: Genesys may or may not have accepted it (${message})`, status, undefined, 'aborted');
        return;
      }
      if (err.name === 'GenesysAuthError') { failAll('unauthorized', message, status, err.body); return; }
      if (status === 413) {
        if (batch.items.length > 1) {
          const halves = splitBatch(batch);
          if (this.batcher.learnLimit(batch.bytes)) this.emit('budget', this.batcher.budget);
          this.batcher.requeueFront(halves);
          end('split', 413);
          return;
        }
        failAll('too-large', `Genesys answered 413 for a single ${batch.bytes}-byte event: too large to ingest`, 413, err.body);
        return;
      }
      if (status === 429) {
        if (rateLimited++ < this.maxRateLimitRetries) {
          const wanted = err.retryAfterMs ?? policy.next();
          // A little jitter above Retry-After so the batches that were throttled together do not return together.
          if (await this.wait(wanted + this.random() * Math.min(1000, wanted * 0.1))) continue;
          failAll('closed', 'genesys-events-out closed while waiting out a 429', 429, undefined, 'aborted');
          return;
        }
        failAll('rate-limited', `Genesys answered 429 ${rateLimited} times: ${message}`, 429, err.body);
        return;
      }
      if (status === 0 || status === 408 || status >= 500) {
        if (++transient < this.maxAttempts) {
          if (await this.wait(policy.next())) continue;
          failAll('closed', `genesys-events-out closed while retrying (${message})`, status, undefined, 'aborted');
          return;
        }
        failAll('unavailable', `gave up after ${transient} attempts: ${message}`, status, err.body);
        return;
      }
      if (status === 401) { failAll('unauthorized', `${message} (does the OAuth client have the eventbridge:ingest scope?)`, 401, err.body); return; }
      if (status === 400 && !batch.resent && this.retryValidRest(batch, err.body)) {
        end('partial', 400, new IngestError(`Genesys rejected some events of the batch: ${message}`, 'rejected', 400, err.body, batch.id));
        return;
      }
      failAll('rejected', message, status, err.body);
      return;
    }
  }

  /** 400 whose errors[] name events (index or /events/N path): fail those, resend the others once. */
  private retryValidRest(batch: Batch, body: unknown): boolean {
    const errors = (body as { errors?: unknown })?.errors;
    if (!Array.isArray(errors)) return false;
    const byIndex = new Map<number, unknown[]>();
    for (const e of errors) {
      const o = (e ?? {}) as { index?: unknown; path?: unknown };
      let i = typeof o.index === 'number' ? o.index : NaN;
      if (!Number.isInteger(i) && typeof o.path === 'string') i = Number(/^\/events\/(\d+)/.exec(o.path)?.[1] ?? NaN);
      if (!Number.isInteger(i) || i < 0 || i >= batch.items.length) return false; // cannot tell which: fail all
      byIndex.set(i, [...(byIndex.get(i) ?? []), e]);
    }
    if (byIndex.size === 0 || byIndex.size === batch.items.length) return false;
    const rest: QueuedEvent[] = [];
    batch.items.forEach((q, i) => {
      const own = byIndex.get(i);
      if (own) this.fail(q, new IngestError(`Genesys rejected the event: ${describeErrors(own)}`, 'rejected', 400, { errors: own }, batch.id));
      else rest.push(q);
    });
    this.batcher.requeueFront([subBatch(batch, rest, 'r')]);
    return true;
  }

  /** Waits ms; false when the sender was aborted meanwhile. */
  private async wait(ms: number): Promise<boolean> {
    try {
      await sleep(ms, this.abort.signal);
      return true;
    } catch (err) {
      if (err instanceof AbortedError) return false;
      throw err;
    }
  }

  private fail(q: QueuedEvent, error: IngestError): void {
    this.stats.failedEvents++;
    q.settle({ ok: false, error });
  }
}

function audit(b: Batch, outcome: BatchOutcome, status: number, attempts: number, latencyMs: number, error?: IngestError): AuditRecord {
  const rec: AuditRecord = {
    time: new Date().toISOString(), batchId: b.id, events: b.items.length, bytes: b.bytes, status, outcome, attempts, latencyMs,
    interactionIds: [...new Set(b.items.map((q) => q.event.interactionId))],
  };
  if (b.parentId) rec.parentBatchId = b.parentId;
  if (error) rec.error = error.message;
  return rec;
}

function describeErrors(errors: unknown[]): string {
  return errors.map((e) => {
    const o = (e ?? {}) as { path?: unknown; message?: unknown };
    return [o.path, o.message].filter((x) => typeof x === 'string').join(' ') || JSON.stringify(e);
  }).join('; ').slice(0, 500);
}
