// A bounded queue that turns single records into batches (linger + size limits), sends one
// batch at a time (so records keep their order), retries retryable failures with backoff,
// and settles each record's promise only with the broker's ack or a final error.
import { EventEmitter } from 'node:events';
import { KafkaSendError } from './errors';
import { recordBytes, type OutgoingRecord, type RecordMetadata } from './record-sink';

export interface BatchQueueOptions {
  /** How long the first record of a batch waits for company before the batch goes out. */
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  /** Records held (queued + in flight); further send() calls wait for room. */
  maxQueued: number;
  /** Retries of a failed batch after the first attempt. */
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** A record not acked this long after send() fails (0 = only the retry count limits it). */
  deliveryTimeoutMs: number;
}

export const DEFAULT_BATCH_OPTIONS: BatchQueueOptions = {
  lingerMs: 5,
  maxBatchRecords: 1000,
  maxBatchBytes: 900 * 1024,
  maxQueued: 10_000,
  retries: 10,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 5000,
  deliveryTimeoutMs: 120_000,
};

export interface FlushReport {
  /** Records acked while flushing. */
  sent: number;
  /** Records that failed while flushing (including those given up at the timeout). */
  failed: number;
  /** Records given up because the timeout passed (counted in failed too). */
  pending: number;
}

interface Entry {
  record: OutgoingRecord;
  bytes: number;
  at: number;
  deadline: number;
  settled: boolean;
  resolve: (m: RecordMetadata) => void;
  reject: (e: Error) => void;
}

export type SendBatch = (records: OutgoingRecord[]) => Promise<RecordMetadata[]>;

export class BatchQueue extends EventEmitter {
  readonly options: BatchQueueOptions;
  private pending: Entry[] = [];
  private inFlight: Entry[] = [];
  private waiters: Entry[] = [];
  private pendingBytes = 0;
  private sending = false;
  private urgent = 0; // > 0 while flushing or closing: ignore linger
  private closed = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;
  private sent = 0;
  private failed = 0;
  private drained: Array<() => void> = [];
  // Smoothed ack rate.
  private rateValue = 0;
  private rateCount = 0;
  private rateStart = Date.now();

  constructor(private readonly sendBatch: SendBatch, options: Partial<BatchQueueOptions> = {}) {
    super();
    const o = { ...DEFAULT_BATCH_OPTIONS };
    for (const [k, v] of Object.entries(options)) if (v !== undefined && Number.isFinite(Number(v))) (o as any)[k] = Number(v);
    o.maxBatchRecords = Math.max(1, o.maxBatchRecords);
    o.maxQueued = Math.max(1, o.maxQueued);
    o.retries = Math.max(0, o.retries);
    this.options = o;
  }

  /** Records queued or in flight. */
  get size(): number { return this.pending.length + this.inFlight.length; }
  /** Records waiting for room (backpressure). */
  get waiting(): number { return this.waiters.length; }
  get rate(): number { this.countAcks(0); return this.rateValue; }

  enqueue(record: OutgoingRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => {
      const at = Date.now();
      const entry: Entry = {
        record, bytes: recordBytes(record), settled: false, resolve, reject, at,
        deadline: this.options.deliveryTimeoutMs > 0 ? at + this.options.deliveryTimeoutMs : Infinity,
      };
      if (this.closed) return this.fail(entry, new KafkaSendError('Kafka producer is closed; record not sent'));
      if (this.size >= this.options.maxQueued || this.waiters.length > 0) {
        this.waiters.push(entry);
        if (this.waiters.length === 1) this.emit('change');
        return;
      }
      this.admit(entry);
      this.schedule();
    });
  }

  /** Sends what is held without lingering; resolves when empty or after timeoutMs. */
  async flush(timeoutMs: number): Promise<FlushReport> {
    const sent0 = this.sent;
    const failed0 = this.failed;
    this.urgent++;
    this.schedule();
    try {
      await this.whenDrained(timeoutMs);
    } finally {
      this.urgent--;
    }
    return { sent: this.sent - sent0, failed: this.failed - failed0, pending: this.size + this.waiting };
  }

  /** Flushes within timeoutMs, then fails every record still held; no record stays unsettled. */
  async close(timeoutMs: number): Promise<FlushReport> {
    const report = await this.flush(timeoutMs);
    this.closed = true;
    const left = [...this.waiters, ...this.pending, ...this.inFlight];
    this.waiters = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = [];
    const err = new KafkaSendError(`Kafka producer closed: record not acknowledged within ${timeoutMs} ms`, { retriable: true });
    for (const e of left) this.fail(e, err);
    this.wakeRetry?.();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.notifyDrained();
    return { sent: report.sent, failed: report.failed + left.length, pending: left.length };
  }

  private admit(entry: Entry): void {
    this.pending.push(entry);
    this.pendingBytes += entry.bytes;
  }

  private schedule(): void {
    if (this.sending || this.closed || this.pending.length === 0) return;
    const wait = this.lingerLeft();
    if (wait <= 0) {
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
      void this.pump();
    } else if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => { this.lingerTimer = null; void this.pump(); }, wait);
    }
  }

  /** Ms until the next batch should go: 0 when full, flushing, or the oldest record lingered enough. */
  private lingerLeft(): number {
    if (this.urgent > 0 || this.batchFull() || this.pending.length === 0) return 0;
    return this.options.lingerMs - (Date.now() - this.pending[0].at);
  }

  private batchFull(): boolean {
    return this.pending.length >= this.options.maxBatchRecords || this.pendingBytes >= this.options.maxBatchBytes;
  }

  private async pump(): Promise<void> {
    if (this.sending || this.closed) return;
    this.sending = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        const batch = this.take();
        if (batch.length > 0) await this.sendWithRetry(batch, true);
        this.admitWaiters();
        // Records that arrived during the send have usually lingered enough already.
        if (this.lingerLeft() > 0) break;
      }
    } finally {
      this.sending = false;
    }
    this.notifyDrained();
    this.schedule();
  }

  /** The next batch: up to the record and byte limits, at least one record; expired ones fail. */
  private take(): Entry[] {
    const now = Date.now();
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length && n < this.options.maxBatchRecords) {
      const b = this.pending[n].bytes;
      if (n > 0 && bytes + b > this.options.maxBatchBytes) break;
      bytes += b;
      n++;
    }
    const batch = this.pending.splice(0, n);
    this.pendingBytes -= bytes;
    return batch.filter((e) => {
      if (e.deadline > now) return true;
      this.fail(e, new KafkaSendError(`record not acknowledged within the delivery timeout (${this.options.deliveryTimeoutMs} ms)`, { retriable: true }));
      return false;
    });
  }

  private async sendWithRetry(batch: Entry[], splitOnFatal: boolean): Promise<void> {
    this.inFlight = batch;
    for (let attempt = 0; ; attempt++) {
      let error: KafkaSendError;
      try {
        const metas = await this.sendBatch(batch.map((e) => e.record));
        batch.forEach((e, i) => this.succeed(e, metas[i]));
        break;
      } catch (err) {
        error = KafkaSendError.from(err);
      }
      if (batch.every((e) => e.settled)) break; // closed meanwhile
      const topics = new Set(batch.map((e) => e.record.topic));
      if (!error.retriable && splitOnFatal && topics.size > 1) {
        // One bad topic (invalid name, no authorization) must not fail the records of the others.
        for (const topic of topics) {
          await this.sendWithRetry(batch.filter((e) => e.record.topic === topic && !e.settled), false);
        }
        break;
      }
      const now = Date.now();
      const expired = batch.filter((e) => e.deadline <= now);
      if (!error.retriable || attempt >= this.options.retries || expired.length === batch.length || this.closed) {
        for (const e of batch) this.fail(e, error);
        break;
      }
      for (const e of expired) this.fail(e, error);
      batch = batch.filter((e) => !e.settled);
      this.inFlight = batch;
      await this.backoff(attempt);
      if (this.closed) break;
    }
    this.inFlight = [];
  }

  private backoff(attempt: number): Promise<void> {
    const base = Math.min(this.options.retryBackoffMaxMs, this.options.retryBackoffMs * 2 ** attempt);
    const delay = base * (0.8 + Math.random() * 0.4);
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.wakeRetry = null; resolve(); }, delay);
      this.wakeRetry = () => { clearTimeout(t); this.wakeRetry = null; resolve(); };
    });
  }

  private admitWaiters(): void {
    const had = this.waiters.length;
    const room = Math.max(0, this.options.maxQueued - this.size);
    if (room > 0 && had > 0) for (const e of this.waiters.splice(0, room)) this.admit(e);
    if (had > 0 && this.waiters.length === 0) this.emit('change');
  }

  private succeed(e: Entry, meta: RecordMetadata): void {
    if (e.settled) return;
    e.settled = true;
    this.sent++;
    this.countAcks(1);
    e.resolve(meta);
  }

  private fail(e: Entry, err: KafkaSendError): void {
    if (e.settled) return;
    e.settled = true;
    this.failed++;
    e.reject(err.forRecord(e.record.topic, e.record.key));
  }

  private countAcks(n: number): void {
    this.rateCount += n;
    const elapsed = Date.now() - this.rateStart;
    if (elapsed >= 1000) {
      const current = (this.rateCount * 1000) / elapsed;
      this.rateValue = elapsed > 5000 || this.rateValue === 0 ? current : this.rateValue * 0.5 + current * 0.5;
      this.rateStart = Date.now();
      this.rateCount = 0;
    }
  }

  private whenDrained(timeoutMs: number): Promise<void> {
    if (this.size + this.waiting === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drained = this.drained.filter((f) => f !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drained.push(done);
    });
  }

  private notifyDrained(): void {
    if (this.size + this.waiting > 0) return;
    for (const f of [...this.drained]) f();
  }
}
