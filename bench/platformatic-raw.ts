// Baseline 1b: the raw @platformatic/kafka producer on the same load as kafka-raw.ts (idempotent,
// acks=all, ~1 KB keyed JSON, batches of `batch`, five sends issued at once). The library needs
// Node >= 22, so it is installed at bench time into .cache/bench (never a project dependency) and
// this file runs in a child process with that Node binary (see platformatic.ts).
//   <node22> -r ts-node/register/transpile-only bench/platformatic-raw.ts '{"modulePath":…,"brokers":[…],"topic":…}'
import { sampleEvent } from './common';

// A real dynamic import: the library is ESM only and TypeScript would turn import() into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

export interface PlatformaticRunOptions {
  /** Absolute path of @platformatic/kafka's dist/index.js. */
  modulePath: string;
  brokers: string[];
  topic: string;
  total?: number;
  batch?: number;
}

export async function rawPlatformatic(o: PlatformaticRunOptions): Promise<number> {
  const { Producer, stringSerializers } = await importEsm(require('node:url').pathToFileURL(o.modulePath).href);
  const total = o.total ?? 100_000;
  const batch = o.batch ?? 500;
  const producer = new Producer({
    clientId: 'bench-raw-platformatic', bootstrapBrokers: o.brokers, serializers: stringSerializers,
    idempotent: true, acks: -1, autocreateTopics: true,
  });
  try {
    const messages = Array.from({ length: total }, (_, i) => ({ topic: o.topic, ...sampleEvent(i) }));
    await producer.send({ messages: messages.slice(0, 10) }); // metadata and producer id warm-up
    const t = process.hrtime.bigint();
    const inflight = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i += batch) {
      const p: Promise<unknown> = producer.send({ messages: messages.slice(i, i + batch) }).then(() => { inflight.delete(p); });
      inflight.add(p);
      if (inflight.size >= 5) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return total / (Number(process.hrtime.bigint() - t) / 1e9);
  } finally {
    await producer.close();
  }
}

if (require.main === module) {
  rawPlatformatic(JSON.parse(process.argv[2])).then((rate) => {
    console.log(`RESULT ${JSON.stringify({ rate })}`);
  }, (err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
}
