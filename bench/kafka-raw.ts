// Baseline 1: the raw kafkajs producer alone (idempotent, acks=all, batched sends of ~1 KB keyed JSON).
import { Kafka, logLevel } from 'kafkajs';
import { sampleEvent } from './common';

export interface RawRun {
  rate: number;
  /** CPU time of this process per message while sending (building the messages excluded). */
  cpuUsPerMsg: number;
}

export async function rawKafkajsRun(brokers: string[], topic: string, total = 100_000, batch = 500): Promise<RawRun> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench-raw' });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  try {
    const messages = Array.from({ length: total }, (_, i) => sampleEvent(i));
    await producer.send({ topic, acks: -1, messages: messages.slice(0, 10) }); // metadata warm-up
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    // Five batches in flight at once, as the idempotent producer allows.
    const inflight = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i += batch) {
      const p: Promise<unknown> = producer.send({ topic, acks: -1, messages: messages.slice(i, i + batch) }).then(() => { inflight.delete(p); });
      inflight.add(p);
      if (inflight.size >= 5) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const used = process.cpuUsage(cpu);
    return { rate: total / seconds, cpuUsPerMsg: (used.user + used.system) / total };
  } finally {
    await producer.disconnect();
  }
}

export async function rawKafkajs(brokers: string[], topic: string, total = 100_000, batch = 500): Promise<number> {
  return (await rawKafkajsRun(brokers, topic, total, batch)).rate;
}
