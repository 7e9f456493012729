// Measurement 6: memory of the push pipeline's Node-RED under a steady load (batches of 100 offered
// at a fixed rate). RSS is sampled every second after a warm-up at that rate; growth compares the
// median of the soak's first window with the median of its last. A single reading lands anywhere on
// V8's old-generation sawtooth (±100 MB here between major GCs, two isolates with the Kafka thread),
// so two single readings measure where the GC cycle was, not whether memory grows.
import { median } from './common';
import { rssOf } from './nodered';
import { measurePipeline, startOurPipeline, type PipelineLoadOptions, type PipelineRun } from './pipeline';

export interface SoakOptions extends PipelineLoadOptions {
  userDir: string;
  topic: string;
  warmupSeconds: number;
  log: (line: string) => void;
}

export interface SoakResult {
  rssBoot: number;
  /** Medians of the RSS samples in the soak's first and last windows. */
  rssStart: number;
  rssEnd: number;
  rssMin: number;
  rssMax: number;
  windowSeconds: number;
  /** Single readings at the start and end of the soak, for comparison. */
  rssFirst: number;
  rssLast: number;
  run: PipelineRun;
}

/** Window compared at each end of the soak: a minute, or a fifth of a short soak. */
export function soakWindowSeconds(seconds: number): number {
  return Math.max(1, Math.min(60, Math.floor(seconds / 5)));
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const p = await startOurPipeline({ userDir: o.userDir, brokers: o.brokers, topic: o.topic, redisUrl: o.redisUrl });
  try {
    const rssBoot = rssOf(p.red.pid);
    const load = (seconds: number) => measurePipeline(p.red, o.admin, o.topic, {
      bodyFile: o.bodies.batch, token: o.token, seconds, connections: 16, rate: o.eventsPerSecond / o.bodies.batchSize,
    }, o.bodies.batchSize);
    await load(o.warmupSeconds);
    const t0 = Date.now();
    const samples: { at: number; rss: number }[] = [];
    const sample = () => samples.push({ at: (Date.now() - t0) / 1000, rss: rssOf(p.red.pid) });
    sample();
    const sampler = setInterval(sample, 1000);
    let run: PipelineRun;
    try {
      run = await load(o.seconds);
    } finally {
      clearInterval(sampler);
    }
    sample();
    const end = samples[samples.length - 1].at;
    const windowSeconds = soakWindowSeconds(o.seconds);
    const rss = (keep: (at: number) => boolean) => median(samples.filter((s) => keep(s.at)).map((s) => s.rss));
    const all = samples.map((s) => s.rss);
    const r: SoakResult = {
      rssBoot, rssStart: rss((at) => at <= windowSeconds), rssEnd: rss((at) => at >= end - windowSeconds),
      rssMin: Math.min(...all), rssMax: Math.max(...all), windowSeconds, rssFirst: all[0], rssLast: all[all.length - 1], run,
    };
    const mb = (b: number) => Math.round(b / 2 ** 20);
    o.log(`  soak: RSS median ${mb(r.rssStart)} MB (first ${windowSeconds} s) → ${mb(r.rssEnd)} MB (last ${windowSeconds} s), range ${mb(r.rssMin)}–${mb(r.rssMax)} MB, ${Math.round(run.storedPerSecond)} events/s stored`);
    return r;
  } finally {
    await p.stop();
  }
}
