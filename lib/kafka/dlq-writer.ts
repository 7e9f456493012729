// Puts a dead letter somewhere safe: the DLQ topic when Kafka answers, else the local spool
// (fsynced), drained to the topic in order once Kafka is back. While anything waits in the
// spool, new dead letters queue behind it so the topic receives them in the order they failed.
// A record the broker refuses for good (too large, invalid) cannot block the spool: it is kept
// in the spool folder's rejected.log and reported.
import { EventEmitter } from 'node:events';
import type { OutgoingRecord } from './record-sink';
import type { DeadLetterSpool } from './spool';
import { classifyFailure } from './retry-classification';

/** The part of the shared producer handle (lib/kafka/producer.ts) the writer needs. */
export interface DeadLetterProducer {
  send(record: OutgoingRecord): Promise<unknown>;
  /** Connection state; while 'connected' a slow ack means a busy producer, not a dead broker. */
  status?(): { state: string };
}

export type WriteOutcome = 'kafka' | 'spool' | 'rejected';

export interface DeadLetterWriterOptions {
  producer: DeadLetterProducer;
  spool: DeadLetterSpool;
  /** How long a send may wait for its ack before the record goes to the spool instead (default 5 s). */
  spoolAfterMs?: number;
  /** Longest wait for an ack while the producer still reports 'connected' (a burst), default 60 s. */
  maxBusyWaitMs?: number;
  /** Backoff between drain attempts while Kafka stays unreachable. */
  drainRetryMinMs?: number;
  drainRetryMaxMs?: number;
  /** Records per drain step (default 500). */
  drainBatch?: number;
}

export interface WriterStats {
  kafka: number;
  spooled: number;
  drained: number;
  rejected: number;
  spoolDepth: number;
  draining: boolean;
  lastError?: string;
}

class SendTimeout extends Error {
  constructor(ms: number) {
    super(`no acknowledgement from Kafka within ${ms} ms`);
    this.name = 'KafkaJSRequestTimeoutError';
  }
}

export class DeadLetterWriter extends EventEmitter {
  private readonly producer: DeadLetterProducer;
  readonly spool: DeadLetterSpool;
  private readonly spoolAfterMs: number;
  private readonly maxBusyWaitMs: number;
  private readonly drainRetryMinMs: number;
  private readonly drainRetryMaxMs: number;
  private readonly drainBatch: number;
  private drainDelay: number;
  private drainTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counts = { kafka: 0, spooled: 0, drained: 0, rejected: 0 };
  private lastError: string | undefined;

  constructor(opts: DeadLetterWriterOptions) {
    super();
    this.producer = opts.producer;
    this.spool = opts.spool;
    this.spoolAfterMs = opts.spoolAfterMs ?? 5000;
    this.maxBusyWaitMs = Math.max(this.spoolAfterMs, opts.maxBusyWaitMs ?? 60_000);
    this.drainRetryMinMs = opts.drainRetryMinMs ?? 1000;
    this.drainRetryMaxMs = opts.drainRetryMaxMs ?? 30_000;
    this.drainBatch = opts.drainBatch ?? 500;
    this.drainDelay = this.drainRetryMinMs;
    this.spool.on('change', () => this.emit('change'));
    // Dead letters left by a previous run go out as soon as Kafka answers.
    if (!this.spool.isEmpty) this.scheduleDrain(0);
  }

  stats(): WriterStats {
    return { ...this.counts, spoolDepth: this.spool.depth, draining: this.spool.isDraining, lastError: this.lastError };
  }

  /** Resolves once the record is acknowledged by Kafka, fsynced in the spool, or kept as rejected. */
  async write(record: OutgoingRecord): Promise<WriteOutcome> {
    if (this.closed) throw new Error('dead-letter writer is closed');
    if (!this.spool.isEmpty || this.spool.isDraining) return this.toSpool(record);
    try {
      await this.sendWithin(record);
      this.counts.kafka++;
      this.lastError = undefined;
      this.emit('change');
      return 'kafka';
    } catch (err) {
      if (classifyFailure(err).reason === 'poison') {
        await this.spool.reject(record, describe(err));
        this.counts.rejected++;
        this.emit('rejected', record, err);
        return 'rejected';
      }
      this.lastError = describe(err);
      return this.toSpool(record);
    }
  }

  private async toSpool(record: OutgoingRecord): Promise<WriteOutcome> {
    await this.spool.append(record); // rejects with SpoolFullError when full: the caller reports it
    this.counts.spooled++;
    this.scheduleDrain(this.spool.isDraining ? this.drainDelay : 0);
    this.emit('change');
    return 'spool';
  }

  /**
   * Sends and waits for the ack. After spoolAfterMs the record goes to the spool — unless the
   * producer is still connected: then it is only busy (a burst), and spooling would send the
   * record twice (once from its queue, once from the spool).
   */
  private sendWithin(record: OutgoingRecord): Promise<unknown> {
    const started = Date.now();
    const sent = this.producer.send(record);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const check = (): void => {
        const busy = this.producer.status?.().state === 'connected' && Date.now() - started < this.maxBusyWaitMs;
        if (busy) timer = setTimeout(check, this.spoolAfterMs);
        else reject(new SendTimeout(Date.now() - started));
      };
      timer = setTimeout(check, this.spoolAfterMs);
      sent.then((v) => { clearTimeout(timer); resolve(v); }, (err) => { clearTimeout(timer); reject(err); });
    });
  }

  /** Starts draining now (e.g. when the producer reports it is connected again). */
  kick(): void {
    if (!this.spool.isEmpty && !this.spool.isDraining) this.scheduleDrain(0);
  }

  private scheduleDrain(delayMs: number): void {
    if (this.closed || this.drainTimer || this.spool.isDraining) return;
    this.drainTimer = setTimeout(() => { this.drainTimer = null; void this.drainOnce(); }, delayMs);
  }

  private async drainOnce(): Promise<void> {
    if (this.closed) return;
    try {
      await this.spool.drain((records) => this.sendDrainBatch(records), { maxBatch: this.drainBatch });
      this.drainDelay = this.drainRetryMinMs;
      this.lastError = undefined;
      this.emit('drained');
    } catch (err) {
      this.lastError = describe(err);
      this.drainDelay = Math.min(this.drainRetryMaxMs, this.drainDelay * 2);
      this.emit('drain-failed', err);
      this.scheduleDrain(this.drainDelay * (0.8 + Math.random() * 0.4));
    }
    this.emit('change');
  }

  /** One drain step: all records through the producer (it keeps their order); rejected ones set aside. */
  private async sendDrainBatch(records: OutgoingRecord[]): Promise<void> {
    const results = await Promise.allSettled(records.map((r) => this.sendWithin(r)));
    let failure: unknown;
    for (const [i, res] of results.entries()) {
      if (res.status === 'fulfilled') { this.counts.drained++; continue; }
      if (classifyFailure(res.reason).reason === 'poison') {
        await this.spool.reject(records[i], describe(res.reason));
        this.counts.rejected++;
        this.emit('rejected', records[i], res.reason);
      } else {
        failure ??= res.reason;
      }
    }
    // The cursor stays before this batch: records acked in it go again later (same dlq.id header).
    if (failure) throw failure;
  }

  /** Stops draining; the spool keeps what is left for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
