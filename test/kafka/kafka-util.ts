// Reading records back from a real broker for assertions.
import type * as tls from 'node:tls';
import { Kafka, logLevel, type KafkaMessage, type SASLOptions } from 'kafkajs';
import { uniqueName } from '../fixtures/env';

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  producerId: string;
}

function text(b: Buffer | string | null | undefined): string | null {
  return b == null ? null : b.toString();
}

/**
 * Consumes topics from the beginning until `count` records arrived (or `untilIdleMs` of silence
 * after at least one when count is unknown), within timeoutMs.
 */
export async function readBack(brokers: string[], topics: string[], count: number | null, timeoutMs = 20_000, untilIdleMs = 1500,
  sasl?: SASLOptions, ssl?: tls.ConnectionOptions): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'test-reader', sasl, ssl });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  const out: ReadRecord[] = [];
  let lastAt = Date.now();
  try {
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 1,
      eachMessage: async ({ topic, partition, message }) => {
        const m = message as KafkaMessage & { batchContext?: { producerId?: string; } };
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
        out.push({
          topic, partition, offset: m.offset, key: text(m.key), value: text(m.value), headers,
          producerId: String(m.batchContext?.producerId ?? ''),
        });
        lastAt = Date.now();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (count !== null && out.length >= count) break;
      if (count === null && out.length > 0 && Date.now() - lastAt > untilIdleMs) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}

/** Records grouped by key, values in partition-offset order (what a consumer of one key sees). */
export function valuesByKey(records: ReadRecord[]): Map<string, string[]> {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  const byKey = new Map<string, string[]>();
  for (const r of sorted) {
    const k = r.key ?? '';
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(r.value ?? '');
  }
  return byKey;
}
