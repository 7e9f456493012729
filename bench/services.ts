// What the benchmark needs running: a real Kafka (harness/kafka.ts unless KAFKA_BROKERS is set) and
// a Redis (harness/redis.ts unless REDIS_URL is set), plus topic helpers. Everything started here is
// stopped by the object that started it.
import * as os from 'node:os';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaServer } from '../harness/kafka';
import { RedisServer } from '../harness/redis';

export interface BenchServices {
  brokers: string[];
  redisUrl: string;
  /** Where Kafka and Redis came from, for the results header. */
  origin: string;
  admin: Admin;
  stop(): Promise<void>;
}

export async function startServices(log: (line: string) => void): Promise<BenchServices> {
  let kafka: KafkaServer | null = null;
  let redis: RedisServer | null = null;
  let admin: Admin | null = null;
  const stop = async (): Promise<void> => {
    await admin?.disconnect().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    await kafka?.destroy().catch(() => undefined);
  };
  try {
    let brokers = (process.env.KAFKA_BROKERS || '').split(',').filter(Boolean);
    if (brokers.length === 0) {
      log('starting Kafka (harness/kafka.ts)…');
      kafka = await new KafkaServer({ heap: '768m', log }).start();
      brokers = [kafka.brokers];
    }
    let redisUrl = process.env.REDIS_URL || '';
    if (!redisUrl) {
      if (!RedisServer.available()) throw new Error('redis-server is not installed and REDIS_URL is not set');
      redis = await new RedisServer().start();
      redisUrl = redis.url;
    }
    admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench-admin' }).admin();
    await admin.connect();
    const origin = `Kafka ${kafka ? `${kafka.version} started by the bench` : `at ${brokers.join(',')} (KAFKA_BROKERS)`}, `
      + `Redis ${redis ? 'started by the bench' : `at ${redisUrl} (REDIS_URL)`}`;
    return { brokers, redisUrl, origin, admin, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A fresh topic with 3 partitions (every measurement writes to one of its own). */
export async function createTopic(admin: Admin, prefix: string): Promise<string> {
  const topic = `bench-${prefix}-${process.pid}-${Date.now().toString(36)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  return topic;
}

/** Records in a topic (sum of high watermarks; the bench's topics start empty). */
export async function topicCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

export async function deleteTopics(admin: Admin, topics: string[]): Promise<void> {
  if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
}

/** "1.23 / 0.98 / 0.75" at this moment: other work on the machine skews every figure. */
export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' / ');
}
