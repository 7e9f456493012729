// What both pollers share: one async loop that never overlaps itself, sleeps that stop() cuts
// short, and one classification of failures into "back off and retry" or "error, retry slowly".
// Events handed off: `await onPage(events)`; the handler resolves once downstream accepted them
// (the node: after send, or after kafka-out settled them) and only then is the position saved.
import { EventEmitter } from 'node:events';
import { MAX_JSON_DEPTH, valueTooDeep } from '../../ingest/json-depth';
import type { GenesysApiError } from '../types';
import { PollPacer, type PacingOptions } from './pacing';

export type PollSource = 'eventstream' | 'details-query';

export interface PolledEvent {
  payload: unknown;
  /** Conversation (interaction) id, or the entity id, when the event carries one. */
  key?: string;
  /** When this process received the page (guide 002's received_at), ISO. */
  receivedAt: string;
}

/** Resolves when the events were accepted downstream; a rejection leaves the position where it was (the page comes again). */
export type PageHandler = (events: PolledEvent[], source: PollSource) => Promise<void>;

/** idle: caught up, waiting for the interval; paced: slowed down because few requests remain in the rate-limit window. */
export type PollStateName = 'starting' | 'polling' | 'idle' | 'paced' | 'backoff' | 'error' | 'stopped';

export interface PollStatus {
  state: PollStateName;
  /** How long until the next request (backoff, idle, error). */
  delayMs?: number;
  /** HTTP status behind a backoff or error, if any. */
  status?: number;
  reason?: string;
}

/** A failure with a code the node can show: HTTP answers keep their status. */
export class PollError extends Error {
  constructor(message: string, readonly code: string, readonly status?: number, readonly body?: unknown) {
    super(message);
    this.name = 'PollError';
  }
}

export interface PollLoopOptions {
  onPage: PageHandler;
  /** Pause between polls once caught up (ms). Default 10 000 (guide 002). */
  intervalMs?: number;
  /** Pause before retrying after a non-retryable answer (4xx other than 429/408) (ms). Default 60 000. */
  errorRetryMs?: number;
  /** Per-request timeout (ms). Default 15 000. */
  requestTimeoutMs?: number;
  pacing?: PacingOptions;
}

/**
 * Events: 'status' (PollStatus), 'pollError' (Error: a clear error for the node to report; never
 * thrown), 'warn' (string: transient trouble being retried), 'page' ({events, durationMs}).
 */
export abstract class PollLoop extends EventEmitter {
  protected readonly intervalMs: number;
  protected readonly errorRetryMs: number;
  protected readonly requestTimeoutMs: number;
  protected readonly pacer: PollPacer;
  protected readonly onPage: PageHandler;
  protected stopped = false;
  protected abort = new AbortController();
  private running: Promise<void> | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private lastState: PollStateName | null = null;

  constructor(opts: PollLoopOptions) {
    super();
    this.onPage = opts.onPage;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.errorRetryMs = opts.errorRetryMs ?? 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.pacer = new PollPacer(opts.pacing);
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.status({ state: 'starting' });
    this.running = this.loop();
  }

  /** Stops the loop: pending sleep and in-flight request end now; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.running;
    this.status({ state: 'stopped' });
  }

  get isStopped(): boolean { return this.stopped; }

  /** One iteration: poll, hand off, save; returns the delay before the next iteration. */
  protected abstract step(): Promise<number>;

  /** Runs before the first step (load the saved position, create a subscription). */
  protected async prepare(): Promise<void> { /* optional */ }

  private async loop(): Promise<void> {
    let prepared = false;
    while (!this.stopped) {
      let delay: number;
      try {
        if (!prepared) { await this.prepare(); prepared = true; }
        delay = await this.step();
      } catch (err) {
        if (this.stopped) break;
        delay = this.failed(err as Error);
      }
      if (!this.stopped) await this.sleep(delay);
    }
  }

  /** Classifies a failure, reports it, and returns the delay before trying again. */
  protected failed(err: Error): number {
    const status = statusOf(err);
    if (status === 429) {
      const delay = this.pacer.backoff((err as GenesysApiError).retryAfterMs);
      this.status({ state: 'backoff', delayMs: delay, status, reason: 'rate limited' });
      return delay;
    }
    const badResponse = err instanceof PollError && err.code === 'bad.response';
    const local = err instanceof PollError && !badResponse && status === undefined;
    if (!local && (badResponse || status === undefined || status >= 500 || status === 408)) {
      const delay = this.pacer.backoff();
      this.status({ state: 'backoff', delayMs: delay, status, reason: err.message });
      if (badResponse) this.emit('pollError', err);
      else this.emit('warn', `${err.message}; retrying in ${delay} ms`);
      return delay;
    }
    // 400, 401 after the client's refresh, 403, 404, 410, or a local problem (config, unreadable
    // cursor): retrying fast cannot help. Report it and retry slowly, so a fix is picked up.
    this.status({ state: 'error', delayMs: this.errorRetryMs, status, reason: err.message });
    this.emit('pollError', err);
    return this.errorRetryMs;
  }

  /**
   * The events that can travel as messages. One nested deeper than MAX_JSON_DEPTH would overflow the
   * stack of Node-RED's deep clone (and of JSON.stringify) and, retried, block the stream for good:
   * it is reported as an error (a Catch node sees which one) and left out; the rest of the page goes on.
   */
  protected withoutTooDeep<T>(events: T[], where: string): T[] {
    if (!events.some((e) => valueTooDeep(e))) return events;
    return events.filter((e) => {
      if (!valueTooDeep(e)) return true;
      const rec = e as { id?: unknown; conversationId?: unknown } | null;
      const id = typeof rec?.id === 'string' ? rec.id : typeof rec?.conversationId === 'string' ? rec.conversationId : undefined;
      this.emit('pollError', new PollError(`an event from ${where}${id ? ` (id ${id.slice(0, 100)})` : ''} nests deeper than ${MAX_JSON_DEPTH} levels and cannot be sent as a message; left out`,
        'event.too.deep', undefined, id ? { id } : undefined));
      return false;
    });
  }

  protected status(s: PollStatus): void {
    if (s.state === 'polling' && this.lastState === 'polling') return;
    this.lastState = s.state;
    this.emit('status', s);
  }

  protected sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => { this.wake = null; this.sleepTimer = null; resolve(); };
      this.sleepTimer = setTimeout(() => this.wake?.(), ms);
    });
  }
}

/** HTTP status of a failure (GenesysApiError, or any error carrying a numeric status). */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown })?.status;
  return typeof s === 'number' && s > 0 ? s : undefined;
}
