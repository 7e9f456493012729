// What the dlq node does with one failed message: classify the failure, give retryable ones
// another go on the retry output (with backoff, attempts counted in msg.dlq), and dead-letter
// the rest through the writer. Plain module: the Node-RED adapter only wires send/done/status.
import { buildDeadLetter, type FailureHistory } from './dlq-record';
import type { DeadLetterWriter, WriteOutcome } from './dlq-writer';
import { classifyFailure, retryDelayMs, type FailureClassification, type FailureReason } from './retry-classification';

/** What the dlq node keeps on msg.dlq (the retry loop carries it back through kafka-out and Catch). */
export interface DlqMsgState extends FailureHistory {
  reason: FailureReason;
  retryable: boolean;
  lastError: string;
  /** Set once dead-lettered. */
  id?: string;
  topic?: string;
  storedIn?: WriteOutcome;
}

export interface DlqHandlerOptions {
  nodeId: string;
  topic: string;
  /** Retries of a retryable failure before it is dead-lettered (default 3). */
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Messages waiting for their retry; beyond it they are dead-lettered at once (never dropped). */
  maxPendingRetries: number;
  includeStack: boolean;
  writer: Promise<DeadLetterWriter>;
}

export interface DlqCallbacks {
  /** Node-RED send: [retry output, dead-letter output]. */
  send(out: [any, any]): void;
  done(err?: Error): void;
  /** Called after a dead letter is safe (webhook settlement). */
  settled(msg: any): void;
}

export interface DlqCounters {
  byReason: Partial<Record<FailureReason, number>>;
  deadLettered: number;
  retried: number;
  pendingRetries: number;
  failed: number;
}

interface PendingRetry { timer: NodeJS.Timeout; run: (closing: boolean) => void }

export class DlqHandler {
  private readonly pending = new Set<PendingRetry>();
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  readonly counters: DlqCounters = { byReason: {}, deadLettered: 0, retried: 0, pendingRetries: 0, failed: 0 };
  onChange: () => void = () => undefined;

  constructor(private readonly opts: DlqHandlerOptions) {}

  /** Handles one input message; never throws (failures go to cb.done(err)). */
  process(msg: any, cb: DlqCallbacks): void {
    try {
      this.route(msg, cb);
    } catch (err) {
      this.counters.failed++;
      cb.done(err as Error);
    }
  }

  private route(msg: any, cb: DlqCallbacks): void {
    const now = new Date().toISOString();
    const error = msg.error ?? (Number(msg.statusCode) >= 400 ? { status: Number(msg.statusCode), message: `HTTP ${msg.statusCode}` } : undefined);
    let failure: FailureClassification & { stack?: string } = classifyFailure(error);
    if (error && typeof error === 'object' && typeof error.stack === 'string') failure.stack = error.stack;
    if (msg.payload === undefined) {
      // Nothing to resend; keep the failure for the record, but do not loop it.
      failure = { ...failure, reason: 'poison', retryable: false, message: `msg.payload is missing (failure: ${failure.message})` };
    }
    const prev = msg.dlq && typeof msg.dlq === 'object' && Number.isInteger(msg.dlq.attempts) ? msg.dlq as DlqMsgState : undefined;
    const history: FailureHistory = { attempts: (prev?.attempts ?? 0) + 1, firstFailure: prev?.firstFailure ?? now, lastFailure: now };

    if (failure.retryable && history.attempts <= this.opts.retries && !this.closing) {
      if (this.pending.size < this.opts.maxPendingRetries) {
        this.scheduleRetry(msg, failure, history, cb);
        return;
      }
      failure = { ...failure, message: `${failure.message} (not retried: ${this.pending.size} retries already waiting)` };
    }
    this.deadLetter(msg, failure, history, cb);
  }

  private scheduleRetry(msg: any, failure: FailureClassification, history: FailureHistory, cb: DlqCallbacks): void {
    const delay = retryDelayMs(history.attempts, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs, retryAfterMs: failure.retryAfterMs });
    const entry: PendingRetry = {
      timer: setTimeout(() => entry.run(false), delay),
      run: (closing) => {
        clearTimeout(entry.timer);
        this.pending.delete(entry);
        this.counters.pendingRetries = this.pending.size;
        if (closing) {
          // The flow is stopping: the retry output may lead nowhere now, so make the event safe.
          this.deadLetter(msg, { ...failure, message: `${failure.message} (retry ${history.attempts} interrupted: node closed)` }, history, cb);
          return;
        }
        // The next failure must be judged on its own error, not on this one.
        delete msg.error;
        delete msg._error;
        msg.dlq = { ...history, reason: failure.reason, retryable: true, lastError: failure.message } satisfies DlqMsgState;
        this.counters.retried++;
        cb.send([msg, null]);
        cb.done();
        this.onChange();
      },
    };
    this.pending.add(entry);
    this.counters.pendingRetries = this.pending.size;
    this.onChange();
  }

  private deadLetter(msg: any, failure: FailureClassification & { stack?: string }, history: FailureHistory, cb: DlqCallbacks): void {
    const work = (async () => {
      const writer = await this.opts.writer;
      const built = buildDeadLetter(msg, failure, history, { topic: this.opts.topic, dlqNodeId: this.opts.nodeId, includeStack: this.opts.includeStack });
      const reason = built.reason;
      const storedIn = await writer.write(built.record);
      this.counters.deadLettered++;
      this.counters.byReason[reason] = (this.counters.byReason[reason] ?? 0) + 1;
      msg.dlq = { ...history, reason, retryable: failure.retryable && !built.problem, lastError: built.problem ?? failure.message, id: built.id, topic: this.opts.topic, storedIn } satisfies DlqMsgState;
      cb.settled(msg);
      cb.send([null, msg]);
      cb.done();
    })().catch((err: Error) => {
      this.counters.failed++;
      cb.done(err);
    }).finally(() => {
      this.inFlight.delete(work);
      this.onChange();
    });
    this.inFlight.add(work);
  }

  /** Dead-letters every waiting retry and waits (bounded) for dead letters under way. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const entry of [...this.pending]) entry.run(true);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
  }

  get busy(): number { return this.inFlight.size; }
}
