// The kafkajs client in a worker thread (worker-sink.ts starts it): encoding record batches,
// CRC32C, compression and the socket work run beside Node-RED's thread instead of on it. One
// message per call: {id, op, records?, options?} in, {id, ok, result | error} out; log lines go
// up as {log, text}. Buffers arrive as Uint8Arrays (structured clone) and are wrapped again.
import { parentPort, workerData } from 'node:worker_threads';
import { KafkaSendError } from './errors';
import { KafkaJsSink } from './kafkajs-sink';
import type { OutgoingRecord, RecordHeaders } from './record-sink';

export type WorkerOp = 'connect' | 'send' | 'reset' | 'disconnect';
export interface WorkerCall { id: number; op: WorkerOp; records?: OutgoingRecord[]; options?: { compression?: string } }
export interface WorkerError { message: string; name: string; retriable: boolean; connectionLost: boolean; producerFenced: boolean; configError: boolean }
export type WorkerReply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: WorkerError } | { log: 'debug' | 'info' | 'warn'; text: string };

const port = parentPort;
if (port) {
  const post = (m: WorkerReply): void => port.postMessage(m);
  const sink = new KafkaJsSink(workerData.settings, { log: (level, text) => post({ log: level, text }) });
  const buf = <T>(v: T): T | Buffer => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
  const revive = (r: OutgoingRecord): OutgoingRecord => {
    const out: OutgoingRecord = { topic: r.topic, key: buf(r.key), value: buf(r.value), timestamp: r.timestamp };
    if (r.headers) {
      const h: RecordHeaders = {};
      for (const [k, v] of Object.entries(r.headers)) h[k] = buf(v) as string | Buffer;
      out.headers = h;
    }
    return out;
  };
  port.on('message', (call: WorkerCall) => {
    const run = call.op === 'send' ? sink.send((call.records ?? []).map(revive), call.options)
      : call.op === 'connect' ? sink.connect() : call.op === 'reset' ? sink.reset() : sink.disconnect();
    run.then((result) => post({ id: call.id, ok: true, result }), (err) => {
      const e = KafkaSendError.from(err);
      post({ id: call.id, ok: false, error: { message: e.message, name: e.name, retriable: e.retriable, connectionLost: e.connectionLost, producerFenced: e.producerFenced, configError: e.configError } });
    });
  });
}
