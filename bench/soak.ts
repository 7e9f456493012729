// Measurement 6: memory of the push pipeline's Node-RED under a steady load (batches of 100 offered
// at a fixed rate). RSS is sampled every second after a warm-up at that rate; growth is the rise of the
// least-squares line through every sample, from the soak's start to its end. A single reading lands
// anywhere on V8's old-generation sawtooth (±100 MB here between major GCs, two isolates with the Kafka
// thread), and so does a one-minute median (runs swung from −9 % to +13 % with the same range): the
// line through all samples averages over several GC cycles. The window medians are reported too.
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
  /** The least-squares line through every sample, at the soak's start and end. */
  rssTrendStart: number;
  rssTrendEnd: number;
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

/** The least-squares line through (at, rss): its values at the first and last sample. */
export function trendLine(samples: readonly { at: number; rss: number }[]): { start: number; end: number } {
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.at, 0) / n;
  const my = samples.reduce((a, s) => a + s.rss, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const s of samples) { sxy += (s.at - mx) * (s.rss - my); sxx += (s.at - mx) ** 2; }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const at = (t: number) => my + slope * (t - mx);
  return { start: at(samples[0].at), end: at(samples[n - 1].at) };
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
    const trend = trendLine(samples);
    const r: SoakResult = {
      rssBoot, rssTrendStart: trend.start, rssTrendEnd: trend.end, rssStart: rss((at) => at <= windowSeconds), rssEnd: rss((at) => at >= end - windowSeconds),
      rssMin: Math.min(...all), rssMax: Math.max(...all), windowSeconds, rssFirst: all[0], rssLast: all[all.length - 1], run,
    };
    const mb = (b: number) => Math.round(b / 2 ** 20);
    o.log(`  soak: RSS trend ${mb(r.rssTrendStart)} → ${mb(r.rssTrendEnd)} MB; median ${mb(r.rssStart)} MB (first ${windowSeconds} s) → ${mb(r.rssEnd)} MB (last ${windowSeconds} s), range ${mb(r.rssMin)}–${mb(r.rssMax)} MB, ${Math.round(run.storedPerSecond)} events/s stored`);
    return r;
  } finally {
    await p.stop();
  }
}
