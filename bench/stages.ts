// Where the push pipeline's Node-RED CPU goes: the same load (batches of 100 at a fixed rate) against
// the full pipeline and against it with one stage swapped or left out. The differences in CPU µs per
// event are what each stage costs inside Node-RED (Redis dedup vs in-memory dedup, normalize, ...).
import type { Admin } from 'kafkajs';
import { fmt } from './common';
import type { BodyFiles } from './load';
import { measurePipeline, startOurPipeline, type PipelineRun, type PipelineVariant } from './pipeline';
import { createTopic } from './services';
import { userDirWithPackage } from './snapshot';

export const STAGE_VARIANTS: [PipelineVariant, string][] = [
  ['full', 'webhook-in → dedup (Redis) → normalize → kafka-out'],
  ['memory-dedup', 'same with dedup in memory instead of Redis'],
  ['no-dedup', 'webhook-in → normalize → kafka-out'],
  ['no-normalize', 'webhook-in → dedup (Redis) → kafka-out'],
  ['webhook-kafka', 'webhook-in → kafka-out'],
  ['webhook-only', 'webhook-in alone (answers on receipt, nothing wired)'],
];

export interface StagesOptions {
  pkg: string;
  brokers: string[];
  redisUrl: string;
  admin: Admin;
  bodies: BodyFiles;
  token: string;
  eventsPerSecond: number;
  seconds: number;
  topics: string[];
  log: (line: string) => void;
}

export async function benchStages(o: StagesOptions): Promise<string> {
  const results: [PipelineVariant, string, PipelineRun][] = [];
  for (const [variant, label] of STAGE_VARIANTS) {
    const topic = await createTopic(o.admin, `stage-${variant}`);
    o.topics.push(topic);
    const p = await startOurPipeline({ userDir: userDirWithPackage(o.pkg), brokers: o.brokers, topic, redisUrl: o.redisUrl, variant });
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
  const full = results.find(([v]) => v === 'full')?.[2].cpuUsPerEvent ?? NaN;
  return [
    `### Where the Node-RED CPU goes (batches of 100 offered at ${fmt(o.eventsPerSecond)} events/s, ${o.seconds} s per variant, one run each)`,
    '',
    '| flow | Node-RED CPU µs/event | vs full pipeline | share of a core | p50 / p99 ms | events/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(([, label, r]) => `| ${label} | ${r.cpuUsPerEvent.toFixed(0)} | ${(r.cpuUsPerEvent - full).toFixed(0)} | ${(r.cpuCores * 100).toFixed(0)} % | `
      + `${r.load.p50} / ${r.load.p99} | ${fmt(r.storedPerSecond || r.answeredPerSecond)} |`),
  ].join('\n');
}
