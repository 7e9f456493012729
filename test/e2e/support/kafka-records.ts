// Collects every record written to the example topics while a test runs, from offsets taken before
// the test deployed anything (the topics are shared, so assertions filter by key or content).
import { Kafka, logLevel, type Consumer, type IHeaders } from 'kafkajs';
import { uniqueName } from '../../fixtures/env';

export interface SeenRecord {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  /** JSON value, or undefined when the value is not JSON. */
  json: any;
  at: number;
}

export const EXAMPLE_TOPICS = ['genesys.interactions', 'genesys.raw', 'genesys.dlq', 'genesys.analytics', 'genesys.ingest.audit', 'genesys.ingest.dlq'];

export class RecordCollector {
  readonly records: SeenRecord[] = [];
  private consumer: Consumer | null = null;
  private readonly kafka: Kafka;

  constructor(brokers: string[], private readonly topics = EXAMPLE_TOPICS) {
    this.kafka = new Kafka({ brokers, clientId: uniqueName('examples-collector'), logLevel: logLevel.NOTHING });
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: this.topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })), waitForLeaders: true });
      const start = new Map<string, { partition: number; offset: string }[]>();
      for (const t of this.topics) start.set(t, (await offsetsOf(admin, t)).map((o) => ({ partition: o.partition, offset: o.high })));
      const consumer = this.kafka.consumer({ groupId: uniqueName('examples-collector'), maxWaitTimeInMs: 100 });
      this.consumer = consumer;
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: false });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          const value = message.value ? message.value.toString('utf8') : '';
          let json: any;
          try { json = JSON.parse(value); } catch { json = undefined; }
          this.records.push({ topic, key: message.key ? message.key.toString('utf8') : null, value, headers: headerStrings(message.headers), json, at: Date.now() });
        },
      });
      await joined;
      // Exactly from where the topics ended before the test: nothing written later is missed.
      for (const [topic, parts] of start) for (const p of parts) consumer.seek({ topic, partition: p.partition, offset: p.offset });
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }

  /** Records of a topic seen since index `from` that satisfy pred. */
  select(topic: string, pred: (r: SeenRecord) => boolean = () => true, from = 0): SeenRecord[] {
    return this.records.slice(from).filter((r) => r.topic === topic && pred(r));
  }

  /** Waits until select(...) has at least n records; returns them. */
  async waitFor(topic: string, pred: (r: SeenRecord) => boolean, n: number, from: number, timeoutMs: number, what: string): Promise<SeenRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.select(topic, pred, from);
      if (got.length >= n) return got;
      if (Date.now() > deadline) throw new Error(`${what}: ${got.length} of ${n} records in ${topic} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves once no new record arrived for quietMs (bounded by timeoutMs). */
  async settle(quietMs = 1000, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let n = this.records.length;
    let since = Date.now();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (this.records.length !== n) { n = this.records.length; since = Date.now(); } else if (Date.now() - since >= quietMs) return;
    }
  }
}

function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

/** Topic end offsets, retried while a just-created topic's leaders are still being elected. */
async function offsetsOf(admin: ReturnType<Kafka['admin']>, topic: string): Promise<{ partition: number; high: string }[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
