// The shared Kafka producer behind a kafka-broker config node, and the API its users
// (kafka-out, dlq) code against. Plain module: no Node-RED import.
//
// ── API for user nodes (kafka-out, dlq) ────────────────────────────────────────────────
//   const broker = RED.nodes.getNode(config.broker) as unknown as KafkaBrokerApi | null;
//   const handle = broker.acquire(this, { lingerMs: 5, maxQueued: 1000 });
//        // ProducerHandleOptions, all optional: compression ('none'|'gzip'|'lz4'), ownStatus, and the
//        // BatchQueueOptions lingerMs, maxBatchRecords, maxBatchBytes, maxQueued, retries,
//        // retryBackoffMs, retryBackoffMaxMs, deliveryTimeoutMs (defaults in batch-queue.ts)
//   handle.on('state', (s: ProducerStatus) => ...)  // on connection changes and queue-full start/end;
//        // the broker ALSO sets node.status() on users that did not pass { ownStatus: true } (MQTT-style)
//   const meta = await handle.send({ topic, key, value, headers });   // resolves after the broker ack
//        // meta: RecordMetadata { topic, partition, offset (decimal string) }
//        // rejects with KafkaSendError { topic, key, retriable, configError, connectionLost, cause }
//        // after the retry limit / delivery timeout, or at once for a non-retriable error
//   handle.status()                              // ProducerStatus now (rate, queued, waiting, state)
//   const report = await handle.flush(10_000);   // sends without lingering; { sent, failed, pending }
//   await broker.release(this, flushTimeoutMs);  // on close (default 10 s): flushes, rejects leftovers
//        // with KafkaSendError('... closed ...', retriable), returns FlushReport; the last release
//        // disconnects the producer
// Records of one handle are sent in order (one request in flight per handle), so records with
// the same key reach their partition in send() order. Each handle has its own bounded queue:
// when maxQueued records wait for the broker, send() waits (backpressure) instead of dropping.
// With "create missing topics" on the broker, send() first ensures the topic exists.
// ──────────────────────────────────────────────────────────────────────────────────────
import { EventEmitter } from 'node:events';
import { BatchQueue, type BatchQueueOptions, type FlushReport } from './batch-queue';
import type { KafkaRecordSink, OutgoingRecord, RecordMetadata, SendOptions } from './record-sink';
import { KafkaSendError, describeError } from './errors';
import { compressionType } from './codecs';
import { configError, validateSettings, type KafkaClientSettings } from './config';
import { KafkaJsSink } from './kafkajs-sink';
import { WorkerKafkaSink } from './worker-sink';

export type { OutgoingRecord, RecordMetadata, KafkaRecordSink } from './record-sink';
export type { FlushReport } from './batch-queue';
export { KafkaSendError } from './errors';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error';

/** What a user node shows: connection state of the shared producer plus its own queue. */
export interface ProducerStatus {
  state: ConnectionState;
  /** Acked records per second through this handle (smoothed). */
  rate: number;
  /** Records waiting for the broker in this handle's queue. */
  queued: number;
  /** Records waiting for room because the queue is full (backpressure). */
  waiting: number;
  /** Last connection or send error, without secrets. */
  error?: string;
}

export interface ProducerHandleOptions extends Partial<BatchQueueOptions> {
  /** 'none' (default) | 'gzip' | 'lz4' (lz4 only when the optional lz4js package is installed). */
  compression?: string;
  /** True when the user sets its own node status from 'state' events (kafka-out does). */
  ownStatus?: boolean;
}

/** The minimal shape of a Node-RED node the broker needs from its users. */
export interface BrokerUser {
  id: string;
  status(status: { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string }): void;
}

export interface ProducerHandle {
  send(record: OutgoingRecord): Promise<RecordMetadata>;
  flush(timeoutMs: number): Promise<FlushReport>;
  status(): ProducerStatus;
  on(event: 'state', listener: (s: ProducerStatus) => void): this;
  off(event: 'state', listener: (s: ProducerStatus) => void): this;
}

/** What the kafka-broker config node offers its users. */
export interface KafkaBrokerApi {
  acquire(user: BrokerUser, options?: ProducerHandleOptions): ProducerHandle;
  /** Flushes and closes the user's handle; disconnects the producer after the last user. */
  release(user: BrokerUser, flushTimeoutMs?: number): Promise<FlushReport>;
}

export interface SharedProducerOptions {
  /** Backoff between reconnect attempts while disconnected (ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  log?: (level: 'debug' | 'info' | 'warn', text: string) => void;
  /** Where the Kafka client runs: a worker thread (default; worker-sink.ts) or Node-RED's own thread. */
  thread?: 'worker' | 'main';
}

class Handle extends EventEmitter implements ProducerHandle {
  readonly queue: BatchQueue;
  private readonly optionError: KafkaSendError | null = null;
  constructor(private readonly owner: SharedProducer, options: ProducerHandleOptions) {
    super();
    const compression = options.compression || 'none';
    try { compressionType(compression); } catch (err) { this.optionError = configError(describeError(err)); }
    this.queue = new BatchQueue((records) => owner.sendBatch(records, { compression }), options);
    this.queue.on('change', () => this.emit('state', this.status()));
  }
  send(record: OutgoingRecord): Promise<RecordMetadata> {
    if (this.optionError) return Promise.reject(this.optionError.forRecord(record.topic, record.key));
    this.owner.ensureConnecting();
    return this.queue.enqueue(record);
  }
  flush(timeoutMs: number): Promise<FlushReport> { return this.queue.flush(timeoutMs); }
  status(): ProducerStatus {
    return { state: this.owner.state, rate: this.queue.rate, queued: this.queue.size, waiting: this.queue.waiting, error: this.owner.lastError };
  }
}

/**
 * One producer connection shared by several handles. Tracks the connection state from connect
 * attempts and send outcomes, reconnects with backoff while disconnected (kafkajs' producer
 * stays disconnected once it gives up), and recreates the sink when the broker lost our
 * producer id (idempotence state), since kafkajs cannot recover from that itself.
 */
export class SharedProducer extends EventEmitter {
  state: ConnectionState = 'idle';
  lastError: string | undefined;
  private readonly handles = new Map<string, Handle>();
  private connecting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay: number;
  private closed = false;
  private readonly opts: Required<Omit<SharedProducerOptions, 'log' | 'thread'>> & Pick<SharedProducerOptions, 'log'>;

  constructor(private readonly sink: KafkaRecordSink, opts: SharedProducerOptions = {}) {
    super();
    this.opts = { reconnectMinMs: 500, reconnectMaxMs: 30_000, ...opts };
    this.reconnectDelay = this.opts.reconnectMinMs;
  }

  get users(): number { return this.handles.size; }

  acquire(userId: string, options: ProducerHandleOptions = {}): ProducerHandle {
    const existing = this.handles.get(userId);
    if (existing) return existing;
    this.closed = false;
    const handle = new Handle(this, options);
    this.handles.set(userId, handle);
    this.ensureConnecting();
    return handle;
  }

  /** Flushes the user's queue, rejects what is left, and disconnects after the last user. */
  async release(userId: string, flushTimeoutMs = 10_000): Promise<FlushReport> {
    const handle = this.handles.get(userId);
    let report: FlushReport = { sent: 0, failed: 0, pending: 0 };
    if (handle) {
      report = await handle.queue.close(flushTimeoutMs);
      this.handles.delete(userId);
      handle.removeAllListeners();
    }
    if (this.handles.size === 0) await this.shutdown();
    return report;
  }

  /** Starts a connect attempt unless connected or one is under way. */
  ensureConnecting(): void {
    if (this.closed || this.state === 'connected' || this.connecting || this.reconnectTimer) return;
    this.connecting = this.connect().finally(() => { this.connecting = null; });
  }

  private async connect(): Promise<void> {
    if (this.stopping) await this.stopping;
    if (this.closed) return;
    this.setState('connecting');
    try {
      await this.sink.connect();
      if (this.closed) return;
      this.reconnectDelay = this.opts.reconnectMinMs;
      this.lastError = undefined;
      this.setState('connected');
    } catch (err) {
      if (this.closed) return;
      const text = describeError(err);
      // Log a failure once, not at every reconnect attempt.
      if (text !== this.lastError) this.opts.log?.('warn', `Kafka connect failed: ${text}`);
      this.lastError = text;
      this.setState(isConfigError(err) ? 'error' : 'disconnected');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.opts.reconnectMaxMs, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.ensureConnecting();
    }, delay * (0.8 + Math.random() * 0.4));
  }

  /** Called by the handles' queues: one request for a batch; tracks state from the outcome. */
  async sendBatch(records: OutgoingRecord[], options: SendOptions): Promise<RecordMetadata[]> {
    if (this.stopping) await this.stopping;
    if (this.connecting) await this.connecting.catch(() => undefined);
    if (this.state !== 'connected' && this.state !== 'connecting') {
      // A send is the best probe: kafkajs reconnects its cluster inside send when it can.
      try { await this.sink.connect(); } catch (err) { this.noteFailure(err); throw err; }
    }
    try {
      const meta = await this.sink.send(records, options);
      if (this.state !== 'connected') {
        this.lastError = undefined;
        this.reconnectDelay = this.opts.reconnectMinMs;
        this.clearReconnect();
        this.setState('connected');
      }
      return meta;
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
  }

  private noteFailure(err: unknown): void {
    const e = KafkaSendError.from(err);
    if (!e.connectionLost && !e.configError && !e.producerFenced) return; // a bad record or topic, not a bad connection
    this.lastError = e.message;
    if (e.producerFenced) {
      // The broker forgot our producer id: only a fresh producer (new id) can go on.
      this.opts.log?.('warn', `Kafka producer state lost (${this.lastError}); recreating the producer`);
      void this.sink.reset().catch(() => undefined);
    }
    this.setState(e.configError ? 'error' : 'disconnected');
    this.scheduleReconnect();
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setState(state: ConnectionState): void {
    const changed = state !== this.state;
    // One log line per transition, not per attempt.
    if (changed && state === 'connected' && (this.state === 'disconnected' || this.state === 'error')) this.opts.log?.('info', 'Kafka connection restored');
    if (changed && state === 'disconnected' && this.state === 'connected') this.opts.log?.('warn', `Kafka connection lost: ${this.lastError}`);
    this.state = state;
    if (changed) this.emit('state', state);
    for (const h of this.handles.values()) h.emit('state', h.status());
  }

  private shutdown(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.closed = true;
    this.clearReconnect();
    this.stopping = (async () => {
      await this.connecting?.catch(() => undefined);
      try { await this.sink.disconnect(); } catch { /* already gone */ }
      this.state = 'idle';
      this.emit('state', 'idle');
    })().finally(() => {
      this.stopping = null;
      // A user that arrived while we disconnected (redeploy) gets a fresh connection.
      if (this.handles.size > 0) { this.closed = false; this.ensureConnecting(); }
    });
    return this.stopping;
  }
}

function isConfigError(err: unknown): boolean {
  return err instanceof KafkaSendError ? err.configError : false;
}

/** A sink for unusable settings: every connect and send fails with the configuration error. */
class MisconfiguredSink implements KafkaRecordSink {
  constructor(private readonly error: KafkaSendError) {}
  async connect(): Promise<void> { throw this.error; }
  async send(): Promise<RecordMetadata[]> { throw this.error; }
  async reset(): Promise<void> { /* nothing held */ }
  async disconnect(): Promise<void> { /* nothing held */ }
  describe(): Record<string, unknown> { return { error: this.error.message }; }
}

/**
 * The shared producer for a broker config: kafkajs underneath (in a worker thread unless
 * opts.thread is 'main'), or a failing sink when the settings are unusable.
 */
export function createSharedProducer(settings: KafkaClientSettings, opts: SharedProducerOptions = {}): SharedProducer {
  const problem = validateSettings(settings);
  const sink = problem ? new MisconfiguredSink(configError(problem))
    : opts.thread === 'main' ? new KafkaJsSink(settings, { log: opts.log }) : new WorkerKafkaSink(settings, { log: opts.log });
  return new SharedProducer(sink, opts);
}
