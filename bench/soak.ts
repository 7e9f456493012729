// Measurement 6: memory of the push pipeline's Node-RED under a steady load (batches of 100 offered
// at a fixed rate): RSS after a warm-up at that rate, sampled during the soak, and at its end.
import type { Admin } from 'kafkajs';
import type { BodyFiles } from './load';
import { rssOf } from './nodered';
import { measurePipeline, startOurPipeline, type PipelineRun } from './pipeline';

export interface SoakOptions {
  userDir: string;
  brokers: string[];
  topic: string;
  redisUrl: string;
  admin: Admin;
  bodies: BodyFiles;
  token: string;
  eventsPerSecond: number;
  seconds: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

export interface SoakResult { rssBoot: number; rssStart: number; rssEnd: number; rssMax: number; run: PipelineRun }

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const p = await startOurPipeline({ userDir: o.userDir, brokers: o.brokers, topic: o.topic, redisUrl: o.redisUrl });
  try {
    const rssBoot = rssOf(p.red.pid);
    const load = (seconds: number) => measurePipeline(p.red, o.admin, o.topic, {
      bodyFile: o.bodies.batch, token: o.token, seconds, connections: 16, rate: o.eventsPerSecond / o.bodies.batchSize,
    }, o.bodies.batchSize);
    await load(o.warmupSeconds);
    const rssStart = rssOf(p.red.pid);
    let rssMax = rssStart;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssOf(p.red.pid)); }, 1000);
    let run: PipelineRun;
    try {
      run = await load(o.seconds);
    } finally {
      clearInterval(sampler);
    }
    const rssEnd = rssOf(p.red.pid);
    rssMax = Math.max(rssMax, rssEnd);
    o.log(`  soak: RSS ${Math.round(rssStart / 2 ** 20)} MB → ${Math.round(rssEnd / 2 ** 20)} MB (max ${Math.round(rssMax / 2 ** 20)} MB), ${Math.round(run.storedPerSecond)} events/s stored`);
    return { rssBoot, rssStart, rssEnd, rssMax, run };
  } finally {
    await p.stop();
  }
}
