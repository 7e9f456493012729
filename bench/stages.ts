// Where the push pipeline's Node-RED CPU goes: the same load (batches of 100 at a fixed rate) against
// the full pipeline and against it with one stage swapped or left out. The differences in CPU µs per
// event are what each stage costs inside Node-RED (Redis dedup vs in-memory dedup, normalize, ...).
import { fmt } from './common';
import { measurePipeline, startOurPipeline, type PipelineLoadOptions, type PipelineMessages, type PipelineRun, type PipelineVariant } from './pipeline';
import { createTopic } from './services';
import { userDirWithPackage } from './snapshot';

// Every variant with one message per request (event batches) and the Kafka client in its worker
// thread, but the second and third, which show what per-event messages and the client on Node-RED's
// own thread cost on the same load.
export const STAGE_VARIANTS: [PipelineVariant, string, PipelineMessages, ('worker' | 'main')?][] = [
  ['full', 'webhook-in → dedup (Redis) → normalize → kafka-out', 'request'],
  ['full', 'same with one message per event', 'event'],
  ['full', 'same with the Kafka client on Node-RED\'s thread', 'request', 'main'],
  ['memory-dedup', 'same with dedup in memory instead of Redis', 'request'],
  ['no-dedup', 'webhook-in → normalize → kafka-out', 'request'],
  ['no-normalize', 'webhook-in → dedup (Redis) → kafka-out', 'request'],
  ['webhook-kafka', 'webhook-in → kafka-out', 'request'],
  ['webhook-only', 'webhook-in alone (answers on receipt, nothing wired)', 'request'],
];

export interface StagesOptions extends PipelineLoadOptions {
  pkg: string;
  topics: string[];
  log: (line: string) => void;
}

export async function benchStages(o: StagesOptions): Promise<string> {
  const results: [PipelineVariant, string, PipelineRun][] = [];
  for (const [variant, label, messages, clientThread] of STAGE_VARIANTS) {
    const topic = await createTopic(o.admin, `stage-${variant}-${messages}-${clientThread ?? 'worker'}`);
    o.topics.push(topic);
    const p = await startOurPipeline({ userDir: userDirWithPackage(o.pkg), brokers: o.brokers, topic, redisUrl: o.redisUrl, variant, messages, clientThread });
    try {
      const load = (seconds: number) => measurePipeline(p.red, o.admin, topic, {
        bodyFile: o.bodies.batch, token: o.token, seconds, connections: 16, rate: o.eventsPerSecond / o.bodies.batchSize,
      }, o.bodies.batchSize);
      await load(3);
      const r = await load(o.seconds);
      results.push([variant, label, r]);
      o.log(`  stage costs, ${label}: ${r.cpuUsPerEvent.toFixed(0)} CPU µs/event, p50 / p99 ${r.load.p50} / ${r.load.p99} ms`);
    } finally {
      await p.stop();
    }
  }
  const full = results[0]?.[2].cpuUsPerEvent ?? NaN;
  return [
    `### Where the Node-RED CPU goes (batches of 100 offered at ${fmt(o.eventsPerSecond)} events/s, ${o.seconds} s per variant, one run each)`,
    '',
    '| flow | Node-RED CPU µs/event (all threads) | vs full pipeline | share of a core | p50 / p99 ms | events/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(([, label, r]) => `| ${label} | ${r.cpuUsPerEvent.toFixed(0)} | ${(r.cpuUsPerEvent - full).toFixed(0)} | ${(r.cpuCores * 100).toFixed(0)} % | `
      + `${r.load.p50} / ${r.load.p99} | ${fmt(r.storedPerSecond || r.answeredPerSecond)} |`),
  ].join('\n');
}
