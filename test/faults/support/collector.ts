// Reads a scenario's output and DLQ topics from the beginning with a plain kafkajs consumer and keeps
// what the ledger comparison needs of each record (not the records: a soak writes hundreds of thousands).
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders } from 'kafkajs';
import { eventKey } from '../../../lib/events/normalize';
import { H } from '../../../lib/kafka/dlq-record';

/** A record of a normalized topic (genesys.interactions, genesys.analytics). */
export interface NormalizedRecord {
  /** event_id:sequence, the dedup key. */
  key: string;
  eventId: string;
  sequence: number;
  conversationId: string;
  source: string;
  state: string;
  receivedAt: string;
  /** Broker time of the append (the topics are created with LogAppendTime): when it became safe. */
  storedAt: number;
  /** Which delivery of the platform it came from: push delivery attempt, notification topic + correlation id. */
  delivery: string;
}

export interface RawRecord { eventId?: string; delivery: string; storedAt: number }

export interface DeadLetter {
  reason?: string;
  /** dlq.error.message and the failing node's type, for the report. */
  message?: string;
  failedIn?: string;
  originalTopic?: string;
  source?: string;
  /** Every id the dead letter can be matched by: push metadata.eventId, event_id, event_id:sequence. */
  ids: string[];
  conversationId?: string;
}

export interface Collected { interactions: NormalizedRecord[]; analytics: NormalizedRecord[]; raw: RawRecord[]; dlq: DeadLetter[] }

function headers(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

function deliveryOf(raw: any): string {
  const m = raw?.metadata;
  if (m && m.eventId !== undefined) return `push#${m.deliveryAttempt ?? '?'}`;
  if (raw && typeof raw.topicName === 'string') return `${raw.topicName}#${m?.CorrelationId ?? '?'}`;
  return '';
}

export class TopicCollector {
  readonly got: Collected = { interactions: [], analytics: [], raw: [], dlq: [] };
  /** Values that did not parse as JSON, per topic (must stay 0 for the normalized topics). */
  readonly unparsable: Record<string, number> = {};
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private readonly consumed = new Map<string, bigint>();
  private readonly byTopic: Map<string, keyof Collected>;

  constructor(brokers: string, readonly topics: Record<keyof Collected, string>, private readonly groupId: string) {
    this.kafka = new Kafka({ brokers: [brokers], clientId: `faults-${groupId}`, logLevel: logLevel.NOTHING });
    this.byTopic = new Map(Object.entries(topics).map(([k, t]) => [t, k as keyof Collected]));
  }

  /** Creates the topics (LogAppendTime, 3 partitions) before the pipeline writes to them. */
  async createTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(this.topics).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] })),
      });
    } finally {
      await admin.disconnect();
    }
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 200, sessionTimeout: 30_000, retry: { retries: 20 } });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(this.topics), fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const kind = this.byTopic.get(batch.topic)!;
        for (const m of batch.messages) this.take(kind, batch.topic, m.value, m.headers, Number(m.timestamp));
        const last = batch.messages[batch.messages.length - 1];
        if (last) this.consumed.set(`${batch.topic}:${batch.partition}`, BigInt(last.offset) + 1n);
      },
    });
  }

  private take(kind: keyof Collected, topic: string, value: Buffer | null, h: IHeaders | undefined, timestamp: number): void {
    let json: any;
    try { json = value ? JSON.parse(value.toString('utf8')) : undefined; } catch { json = undefined; }
    if (json === undefined && kind !== 'dlq') { this.unparsable[topic] = (this.unparsable[topic] ?? 0) + 1; return; }
    if (kind === 'interactions' || kind === 'analytics') {
      this.got[kind].push({
        key: `${json.event_id}:${json.sequence}`, eventId: String(json.event_id), sequence: json.sequence, conversationId: json.conversation_id,
        source: json.source, state: json.state, receivedAt: json.received_at, storedAt: timestamp, delivery: deliveryOf(json.raw_payload),
      });
    } else if (kind === 'raw') {
      this.got.raw.push({ eventId: json?.metadata?.eventId, delivery: deliveryOf(json), storedAt: timestamp });
    } else {
      const hs = headers(h);
      const ids = new Set<string>();
      if (json && typeof json === 'object') {
        if (json.metadata?.eventId !== undefined) ids.add(String(json.metadata.eventId));
        if (json.event_id !== undefined) ids.add(String(json.event_id));
        const k = eventKey(json, { source: hs[H.genesysSource] as any });
        if (k) ids.add(k);
      }
      this.got.dlq.push({
        reason: hs[H.reason], message: hs[H.message], failedIn: hs[H.sourceType], originalTopic: hs[H.originalTopic], source: hs[H.genesysSource], ids: [...ids],
        conversationId: json?.conversation_id ?? json?.conversationId ?? json?.data?.conversationId ?? json?.eventBody?.id ?? json?.id,
      });
    }
  }

  /** True once every partition was read up to its current end. */
  async caughtUp(): Promise<boolean> {
    if (!this.admin) return false;
    for (const topic of Object.values(this.topics)) {
      for (const p of await this.admin.fetchTopicOffsets(topic)) {
        const high = BigInt(p.high);
        if (high > 0n && (this.consumed.get(`${topic}:${p.partition}`) ?? 0n) < high) return false;
      }
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.admin = null;
  }

  /** Deletes the scenario's topics and consumer group (a shared broker keeps nothing of the run). */
  async deleteTopics(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: Object.values(this.topics), timeout: 5000 });
    } catch { /* best effort */ } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
