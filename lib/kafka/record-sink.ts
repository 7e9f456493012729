// The small interface between our batching/ack logic and a Kafka client library.
// kafkajs implements it in kafkajs-sink.ts; another client (e.g. a librdkafka binding) can
// replace it without touching the queue, the shared producer or the nodes.

export type RecordHeaders = Record<string, string | Buffer>;

export interface OutgoingRecord {
  topic: string;
  /** Partitioning key; records with the same key keep their order. */
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: RecordHeaders;
  /** Epoch ms; the broker's time when omitted. */
  timestamp?: number;
}

/** Where the broker stored a record. offset is a decimal string (64-bit). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
}

export interface SendOptions {
  /** 'none' | 'gzip' | 'lz4' (see codecs.ts). */
  compression?: string;
}

export interface KafkaRecordSink {
  /** Connects (or reconnects); rejects when no broker answers. Idempotent. */
  connect(): Promise<void>;
  /**
   * Sends records as one produce request per broker (acks=all) and resolves with one
   * metadata per record, in input order, after the broker acknowledged all of them.
   */
  send(records: OutgoingRecord[], options?: SendOptions): Promise<RecordMetadata[]>;
  /** Drops the current client producer so the next connect starts a fresh one (new producer id). */
  reset(): Promise<void>;
  disconnect(): Promise<void>;
  /** Settings that matter for guarantees, for logs and tests (no secrets). */
  describe(): Record<string, unknown>;
}

/** Approximate wire size of a record, for batch byte limits. */
export function recordBytes(r: OutgoingRecord): number {
  let n = 70; // record + batch overhead share
  if (r.key != null) n += typeof r.key === 'string' ? Buffer.byteLength(r.key) : r.key.length;
  if (r.value != null) n += typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length;
  if (r.headers) {
    for (const [k, v] of Object.entries(r.headers)) n += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : v.length) + 4;
  }
  return n;
}
