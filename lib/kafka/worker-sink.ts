// KafkaRecordSink that runs kafkajs in a worker thread (kafkajs-worker.ts). kafkajs spends
// 25-40 µs of CPU per record (encoding, CRC32C, buffers and the garbage they leave); on Node-RED's
// one thread that is a third of the push pipeline's cost. Here the main thread only copies records
// into a message, so a second core does that work. Errors come back with their classification
// (retriable, connection lost, producer fenced, configuration), which is all the producer and the
// DLQ act on. The thread starts on first use, is restarted after a crash (pending calls fail as
// connection losses, so the queue retries them) and ends with disconnect().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeSettings, type KafkaClientSettings } from './config';
import { KafkaSendError } from './errors';
import { MAX_IN_FLIGHT_REQUESTS } from './kafkajs-sink';
import type { WorkerCall, WorkerOp, WorkerReply } from './kafkajs-worker';
import type { KafkaRecordSink, OutgoingRecord, RecordMetadata, SendOptions } from './record-sink';

interface Pending { resolve: (v: any) => void; reject: (e: Error) => void }

/**
 * The compiled worker beside this file; when running from the TypeScript sources (tests), the built
 * copy in dist/ if it is newer than every source here (ts-node in a thread adds ~0.5 s to the first
 * connect), else the source itself through ts-node.
 */
function workerEntry(): { file: string; execArgv?: string[] } {
  const js = path.join(__dirname, 'kafkajs-worker.js');
  if (fs.existsSync(js)) return { file: js };
  const built = path.resolve(__dirname, '..', '..', 'dist', 'lib', 'kafka', 'kafkajs-worker.js');
  try {
    const builtAt = fs.statSync(built).mtimeMs;
    const sources = fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts'));
    if (sources.every((f) => fs.statSync(path.join(__dirname, f)).mtimeMs <= builtAt)) return { file: built };
  } catch { /* not built */ }
  return { file: path.join(__dirname, 'kafkajs-worker.ts'), execArgv: ['-r', 'ts-node/register/transpile-only'] };
}

export class WorkerKafkaSink implements KafkaRecordSink {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(private readonly settings: KafkaClientSettings, private readonly opts: { log?: (level: 'debug' | 'info' | 'warn', text: string) => void } = {}) {
    // Loading the thread takes a few hundred ms: start it now, while the flow starts, not at the first record.
    this.start();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const w = new Worker(entry.file, { workerData: { settings: this.settings }, execArgv: entry.execArgv, name: 'kafka-client' });
    // Node-RED's server keeps the process alive; an idle client thread must not.
    w.unref();
    w.on('message', (m: WorkerReply) => {
      if ('log' in m) { this.opts.log?.(m.log, m.text); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else {
        const e = new KafkaSendError(m.error.message, m.error);
        e.name = m.error.name;
        p.reject(e);
      }
    });
    const gone = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = null;
      const err = new KafkaSendError(`Kafka client thread ${why}`, { retriable: true, connectionLost: true });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', (err) => gone(`failed: ${err.message}`));
    w.on('exit', (code) => gone(`exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private call<T>(op: WorkerOp, records?: OutgoingRecord[], options?: SendOptions): Promise<T> {
    const w = this.start();
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A pending call keeps the process alive, like a socket of the client would.
      if (this.pending.size === 1) w.ref();
      const msg: WorkerCall = { id, op, records, options };
      try { w.postMessage(msg); } catch (err) {
        this.pending.delete(id);
        reject(KafkaSendError.from(err));
      }
    }).finally(() => { if (this.pending.size === 0) this.worker?.unref(); });
  }

  connect(): Promise<void> {
    return this.call('connect');
  }

  send(records: OutgoingRecord[], options: SendOptions = {}): Promise<RecordMetadata[]> {
    return this.call('send', records, options);
  }

  async reset(): Promise<void> {
    if (this.worker) await this.call('reset');
  }

  async disconnect(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    await this.call('disconnect').catch(() => undefined);
    this.worker = null;
    await w.terminate();
  }

  describe(): Record<string, unknown> {
    return { client: 'kafkajs', thread: 'worker', idempotent: true, acks: 'all', maxInFlightRequests: MAX_IN_FLIGHT_REQUESTS, ...describeSettings(this.settings) };
  }
}
