// Shared helpers of the dlq tests: read a topic back with a real consumer, wait for a condition.
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { uniqueName } from '../fixtures/env';

export type ReadRecord = KafkaMessage & { topic: string; partition: number };

/** Reads `topic` from the beginning until `count` records arrived (or the timeout passes). */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 15_000): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers, clientId: 'dlq-test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-test-reader'), maxWaitTimeInMs: 100 });
  const got: ReadRecord[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ topic: t, partition, message }) => {
          got.push({ ...message, topic: t, partition });
          if (got.length >= count) { clearTimeout(timer); resolve(); }
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return got;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const header = (m: KafkaMessage, name: string): string | undefined => {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : String(one);
};
