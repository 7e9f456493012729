// KafkaRecordSink on kafkajs: an idempotent producer (acks=all, at most 5 requests in flight),
// one sendBatch per call, and per-record offsets computed from the partition each record got.
import { crc32cImplementation } from './crc32c'; // before kafkajs: see crc32c.ts
import { Kafka, Partitioners, logLevel, type Producer, type Message, type PartitionerArgs, type LogEntry } from 'kafkajs';
import { toKafkaJsConfig, describeSettings, type KafkaClientSettings } from './config';
import { compressionType } from './codecs';
import { KafkaSendError, describeError } from './errors';
import type { KafkaRecordSink, OutgoingRecord, RecordMetadata, SendOptions } from './record-sink';

export const MAX_IN_FLIGHT_REQUESTS = 5;

export interface KafkaJsSinkOptions {
  /** Where kafkajs' own messages go (never containing credentials). */
  log?: (level: 'debug' | 'info' | 'warn', text: string) => void;
}

type TaggedMessage = Message & { _partition?: number };

/** Keys remembered per partition count; a conversation's events share a key, so most lookups hit. */
const PARTITION_CACHE_KEYS = 20_000;

/**
 * The default (Java-compatible murmur2) partitioner, remembering which partition each message got.
 * A string key's partition depends only on the key and the partition count, so it is computed once
 * per key (kafkajs' murmur2 in JavaScript plus a filtered copy of the partition list cost ~2-3 µs a
 * message); other messages (explicit partition, Buffer or no key) go to kafkajs' partitioner as before.
 */
export const taggingPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const byCount = new Map<number, Map<string, number>>();
  return (args: PartitionerArgs): number => {
    const message = args.message as TaggedMessage;
    const key = message.key;
    let p: number | undefined;
    if (typeof key === 'string' && message.partition == null) {
      const n = args.partitionMetadata.length;
      let known = byCount.get(n);
      if (!known) byCount.set(n, known = new Map());
      p = known.get(key);
      if (p === undefined) {
        p = partition(args);
        if (known.size >= PARTITION_CACHE_KEYS) known.clear();
        known.set(key, p);
      }
    } else {
      p = partition(args);
    }
    message._partition = p;
    return p;
  };
};

export class KafkaJsSink implements KafkaRecordSink {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private connected: Promise<void> | null = null;

  constructor(private readonly settings: KafkaClientSettings, private readonly opts: KafkaJsSinkOptions = {}) {
    const log = opts.log;
    this.kafka = new Kafka({
      ...toKafkaJsConfig(settings),
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        // kafkajs warns once per connect that limited retries weaken EoS: our queue retries instead.
        if (!log || /Limiting retries for the idempotent producer/.test(entry.log.message)) return;
        // Debug only: an outage makes kafkajs log every attempt; the shared producer logs state changes once.
        log('debug', `kafkajs ${entry.namespace}: ${entry.log.message}`);
      },
    });
  }

  private current(): Producer {
    if (!this.producer) {
      this.producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: MAX_IN_FLIGHT_REQUESTS,
        createPartitioner: taggingPartitioner,
        allowAutoTopicCreation: true,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      });
    }
    return this.producer;
  }

  async connect(): Promise<void> {
    const producer = this.current();
    // Single-flight: several batches waiting on a reconnect share one attempt.
    if (!this.connected) {
      this.connected = producer.connect().catch((err) => { this.connected = null; throw err; });
    }
    return this.connected;
  }

  async send(records: OutgoingRecord[], options: SendOptions = {}): Promise<RecordMetadata[]> {
    const compression = compressionType(options.compression ?? 'none');
    // Group by topic in first-seen order; messages keep their relative order inside a topic.
    const byTopic = new Map<string, TaggedMessage[]>();
    const tagged: TaggedMessage[] = records.map((r) => {
      const m: TaggedMessage = { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp === undefined ? undefined : String(r.timestamp) };
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, list = []);
      list.push(m);
      return m;
    });
    let results;
    try {
      await this.connect(); // no-op while connected; reconnects a fresh or dropped producer
      const producer = this.current();
      results = await producer.sendBatch({
        acks: -1,
        timeout: this.settings.requestTimeoutMs,
        compression,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      // A lost connection (or kafkajs dropping to "disconnected") makes the next connect() a real
      // attempt: a remembered success would report "connected" to a dead cluster, and the DLQ's spool
      // (which waits while the producer looks connected) would never take over.
      const e = KafkaSendError.from(err);
      if (e.connectionLost || /producer is disconnected/i.test(describeError(err))) this.connected = null;
      throw e;
    }
    const base = new Map<string, bigint>();
    for (const r of results) base.set(`${r.topicName}\u0000${r.partition}`, BigInt(r.baseOffset ?? '-1'));
    const next = new Map<string, bigint>();
    return records.map((r, i) => {
      const partition = tagged[i]._partition ?? 0;
      const k = `${r.topic}\u0000${partition}`;
      const offset = next.get(k) ?? base.get(k) ?? -1n;
      next.set(k, offset + 1n);
      return { topic: r.topic, partition, offset: offset.toString() };
    });
  }

  async reset(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    this.connected = null;
    if (old) await old.disconnect().catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    await this.reset();
  }

  describe(): Record<string, unknown> {
    return { client: 'kafkajs', crc32c: crc32cImplementation, idempotent: true, acks: 'all', maxInFlightRequests: MAX_IN_FLIGHT_REQUESTS, ...describeSettings(this.settings) };
  }
}
