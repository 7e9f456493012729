// `npm run bench`: every figure of the side-by-side benchmark in one run, on loopback, against a real
// Kafka (harness/kafka.ts unless KAFKA_BROKERS is set) and Redis (harness/redis.ts unless REDIS_URL).
//   BENCH_QUICK=1      shorter runs (a few minutes in all)      BENCH_RUNS=n   runs per figure (default 3)
//   BENCH_ONLY=a,b     sections: raw, platformatic, kafka-out, pipeline, stock, ws-in, soak, stages, events-out, webhook
//   BENCH_PROFILE=1    --cpu-prof on the Node-RED processes; summaries go into the results file
// Prints a markdown table and writes it to bench/results/ (git-ignored).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUNS, fmt, median, medianOf, table, writeResults, type Row } from './common';
import { rawKafkajsRun, type RawRun } from './kafka-raw';
import { ensurePlatformatic, runPlatformatic } from './platformatic';
import { startKafkaOutFeeder, type KafkaOutFeeder } from './kafka-out';
import { signToken, writeBodies, type BodyFiles } from './load';
import { measurePipeline, pipelineErrors, startOurPipeline, startStockPipeline, stockUserDir, type PipelineProcess, type PipelineRun } from './pipeline';
import { benchWsIn } from './ws-in';
import { soak } from './soak';
import { benchStages } from './stages';
import { createTopic, deleteTopics, loadAverage, startServices, type BenchServices } from './services';
import { buildSnapshot, userDirWithPackage } from './snapshot';
import { BENCH_NODE_OPTIONS, PROFILE_DIR } from './nodered';
import { formatSummary, summarize } from './profile';

const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = new Set((process.env.BENCH_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean));
const PROFILE = process.env.BENCH_PROFILE === '1';
const want = (section: string): boolean => ONLY.size === 0 ? section !== 'webhook' || !QUICK : ONLY.has(section);

/** Durations and sizes: full mode as the issue asks, quick mode for a first look. */
const PLAN = QUICK
  ? { rawMessages: 50_000, kafkaOutMessages: 50_000, maxSeconds: 5, sustainSeconds: 10, wsEvents: 30_000, soakSeconds: 30, soakWarmup: 25, stageSeconds: 6, eventsOut: 20_000 }
  : { rawMessages: 200_000, kafkaOutMessages: 200_000, maxSeconds: 20, sustainSeconds: 60, wsEvents: 100_000, soakSeconds: 300, soakWarmup: 120, stageSeconds: 15, eventsOut: 50_000 };
const CONNECTIONS = { single: 32, singleMany: 256, batch: 16, sustained: 32 };
const SUSTAIN_EVENTS_PER_SECOND = 10_000;
const SOAK_EVENTS_PER_SECOND = 5_000;

const log = (line: string): void => { process.stderr.write(`${line}\n`); };
const load1 = (): number => os.loadavg()[0];
const rate = (n: number): string => `${fmt(n)}/s`;

interface Ctx { services: BenchServices; pkg: string; bodies: BodyFiles; token: string; topics: string[]; rows: Row[]; notes: string[] }

/**
 * Measurements 1, 1b and 2, interleaved run by run (raw kafkajs, raw @platformatic/kafka, kafka-out in
 * Node-RED, and Node-RED with a pass-through node in kafka-out's place) so that changing load on a
 * shared machine hits all of them alike.
 */
async function sectionKafka(c: Ctx): Promise<void> {
  const doRaw = want('raw') || want('kafka-out');
  const doKafkaOut = want('kafka-out');
  let platformatic: ReturnType<typeof ensurePlatformatic> | undefined;
  let platformaticError: string | undefined;
  if (want('platformatic')) {
    try { platformatic = ensurePlatformatic(log); } catch (err) { platformaticError = (err as Error).message; }
  }
  const topic = async (name: string) => { const t = await createTopic(c.services.admin, name); c.topics.push(t); return t; };
  let feeder: KafkaOutFeeder | undefined;
  let echo: KafkaOutFeeder | undefined;
  let feederMain: KafkaOutFeeder | undefined;
  const outMain: { rate: number; cpuUsPerMsg: number }[] = [];
  const raw: RawRun[] = [];
  const plat: number[] = [];
  const out: { rate: number; cpuUsPerMsg: number }[] = [];
  const pass: { rate: number; cpuUsPerMsg: number }[] = [];
  try {
    if (doKafkaOut) {
      feeder = await startKafkaOutFeeder({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic: await topic('kafka-out'),
        warmup: 20_000, profileName: PROFILE ? 'kafka-out' : undefined });
      echo = await startKafkaOutFeeder({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic: 'unused', target: 'echo', warmup: 20_000 });
      feederMain = await startKafkaOutFeeder({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic: await topic('kafka-out-main'),
        warmup: 20_000, clientThread: 'main' });
    }
    for (let i = 0; i < RUNS; i++) {
      const tag = `run ${i + 1}/${RUNS}`;
      if (doRaw) { raw.push(await rawKafkajsRun(c.services.brokers, await topic('raw-kafkajs'), PLAN.rawMessages)); log(`  raw kafkajs ${tag}: ${fmt(raw[i].rate)} msgs/s`); }
      if (platformatic) {
        try {
          plat.push(await runPlatformatic(platformatic.node, platformatic.modulePath, c.services.brokers, await topic('raw-platformatic'), PLAN.rawMessages));
          log(`  raw @platformatic/kafka ${tag}: ${fmt(plat[plat.length - 1])} msgs/s`);
        } catch (err) { platformaticError = (err as Error).message; platformatic = undefined; }
      }
      if (feeder) { out.push(await feeder.run(PLAN.kafkaOutMessages)); log(`  kafka-out in Node-RED ${tag}: ${fmt(out[i].rate)} msgs/s`); }
      if (feederMain) { outMain.push(await feederMain.run(PLAN.kafkaOutMessages)); log(`  kafka-out, client on Node-RED's thread ${tag}: ${fmt(outMain[i].rate)} msgs/s`); }
      if (echo) { pass.push(await echo.run(PLAN.kafkaOutMessages)); log(`  pass-through node in Node-RED ${tag}: ${fmt(pass[i].rate)} msgs/s`); }
    }
    if (feeder && feeder.errors().length) c.notes.push(`kafka-out bench logged errors: ${feeder.errors().slice(-3).join(' | ')}`);
  } finally {
    await feeder?.stop();
    await echo?.stop();
    await feederMain?.stop();
  }
  const kafkajs = raw.length ? median(raw.map((r) => r.rate)) : undefined;
  if (kafkajs !== undefined) {
    c.rows.push({ name: '1. raw kafkajs producer (idempotent, acks=all, 500-record batches, 5 sends at once, 1 KB keyed JSON strings)', value: kafkajs, unit: 'msgs/s', load: load1(),
      note: `${median(raw.map((r) => r.cpuUsPerMsg)).toFixed(1)} CPU µs/msg` });
  }
  if (plat.length) {
    const v = median(plat);
    c.rows.push({ name: `1b. raw ${platformatic?.version ?? '@platformatic/kafka'}, same load`, value: v, unit: 'msgs/s', baseline: 'kafkajs', ratio: kafkajs ? v / kafkajs : undefined, load: load1() });
  }
  if (platformaticError) c.rows.push({ name: '1b. raw @platformatic/kafka producer', value: NaN, unit: 'not measured', note: platformaticError.slice(0, 400) });
  if (out.length) {
    const v = median(out.map((r) => r.rate));
    const paired = median(out.map((r, i) => r.rate / raw[i].rate));
    c.rows.push({ name: '2. kafka-out in headless Node-RED, fed as fast as it takes (node defaults: linger 5 ms, ≤ 1000 records per batch, client in a worker thread)', value: v, unit: 'msgs/s',
      baseline: 'raw kafkajs', ratio: kafkajs ? v / kafkajs : undefined, target: '≥ 0.6 × raw kafkajs', met: kafkajs ? v / kafkajs >= 0.6 : undefined, load: load1(),
      note: `${median(out.map((r) => r.cpuUsPerMsg)).toFixed(1)} Node-RED CPU µs/msg; run-by-run ratio median ${paired.toFixed(2)}` });
  }
  if (outMain.length) {
    const v = median(outMain.map((r) => r.rate));
    c.rows.push({ name: '2. same with kafka-broker\'s "client runs: on Node-RED\'s thread"', value: v, unit: 'msgs/s',
      baseline: 'raw kafkajs', ratio: kafkajs ? v / kafkajs : undefined, target: '≥ 0.6 × raw kafkajs', met: kafkajs ? v / kafkajs >= 0.6 : undefined, load: load1(),
      note: `${median(outMain.map((r) => r.cpuUsPerMsg)).toFixed(1)} Node-RED CPU µs/msg` });
  }
  if (pass.length) {
    c.rows.push({ name: '2. for scale: the same feed through a pass-through node instead of kafka-out (Node-RED routing alone)', value: median(pass.map((r) => r.rate)), unit: 'msgs/s',
      load: load1(), note: `${median(pass.map((r) => r.cpuUsPerMsg)).toFixed(1)} Node-RED CPU µs/msg` });
  }
}

/** Median over runs of one load shape against a running pipeline; the run whose stored rate is the median is reported. */
async function pipelineFigure(c: Ctx, p: PipelineProcess, topic: string, label: string, kind: 'single' | 'batch', seconds: number, connections: number, rps?: number): Promise<PipelineRun> {
  const runs: PipelineRun[] = [];
  const file = kind === 'single' ? c.bodies.single : c.bodies.batch;
  const batch = kind === 'single' ? 1 : c.bodies.batchSize;
  for (let i = 0; i < RUNS; i++) {
    const r = await measurePipeline(p.red, c.services.admin, topic, { bodyFile: file, token: c.token, seconds, connections, rate: rps }, batch);
    runs.push(r);
    log(`  ${label} run ${i + 1}/${RUNS}: ${fmt(r.storedPerSecond)} events/s stored, ${fmt(r.answeredPerSecond)} answered 2xx, p50 ${r.load.p50} / p99 ${r.load.p99} ms, `
      + `non-2xx ${r.load.non2xx}, errors ${r.load.errors + r.load.timeouts}, lost ${r.lost}; Node-RED CPU ${(r.cpuCores * 100).toFixed(0)} % of a core (main thread ${(r.mainThreadCores * 100).toFixed(0)} %), ${r.cpuUsPerEvent.toFixed(0)} µs/event`
      + (r.load.slowSeconds?.length ? `; seconds with an answer over 500 ms (second: slowest ms): ${r.load.slowSeconds.map((w) => `${w.at}: ${w.max}`).join(', ')}` : ''));
  }
  return [...runs].sort((a, b) => a.storedPerSecond - b.storedPerSecond)[Math.floor(runs.length / 2)];
}

const describeRun = (r: PipelineRun): string => {
  const bad = r.load.non2xx + r.load.errors + r.load.timeouts;
  return [`Node-RED ${(r.cpuCores * 100).toFixed(0)} % of a core (main thread ${(r.mainThreadCores * 100).toFixed(0)} %), ${r.cpuUsPerEvent.toFixed(0)} CPU µs/event`,
    bad ? `${bad} non-2xx/errors: ${JSON.stringify(r.load.statusCodes)}` : '', r.lost ? `${r.lost} answered events missing from Kafka` : ''].filter(Boolean).join('; ');
};

async function sectionPipelines(c: Ctx): Promise<void> {
  const results: { ours?: { single: PipelineRun; batch: PipelineRun }; oursPerEvent?: PipelineRun; stock?: { single: PipelineRun; batch: PipelineRun } } = {};
  const warm = async (p: PipelineProcess, topic: string) => {
    await measurePipeline(p.red, c.services.admin, topic, { bodyFile: c.bodies.batch, token: c.token, seconds: 3, connections: 8 }, c.bodies.batchSize);
  };
  if (want('pipeline')) {
    const topic = await createTopic(c.services.admin, 'pipeline');
    c.topics.push(topic);
    const p = await startOurPipeline({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic, redisUrl: c.services.redisUrl, profileName: PROFILE ? 'pipeline' : undefined });
    try {
      await warm(p, topic);
      const batch = await pipelineFigure(c, p, topic, 'ours, batches of 100, max', 'batch', PLAN.maxSeconds, CONNECTIONS.batch);
      const sustained = await pipelineFigure(c, p, topic, `ours, batches of 100 at ${fmt(SUSTAIN_EVENTS_PER_SECOND)} events/s`, 'batch', PLAN.sustainSeconds,
        CONNECTIONS.sustained, SUSTAIN_EVENTS_PER_SECOND / c.bodies.batchSize);
      const single = await pipelineFigure(c, p, topic, 'ours, single events, max', 'single', PLAN.maxSeconds, CONNECTIONS.single);
      const singleMany = await pipelineFigure(c, p, topic, `ours, single events, ${CONNECTIONS.singleMany} connections`, 'single', PLAN.maxSeconds, CONNECTIONS.singleMany);
      results.ours = { single, batch };
      const name = '3. push pipeline: genesys-webhook-in (JWT, ack after delivery, one message per request) → dedup (Redis) → normalize → kafka-out';
      c.rows.push({ name: `${name}; batches of 100, ${CONNECTIONS.batch} connections`, value: batch.storedPerSecond, unit: 'events/s', latency: `${batch.load.p50} / ${batch.load.p99}`, load: load1(), note: describeRun(batch) });
      const ok = sustained.storedPerSecond >= 0.98 * SUSTAIN_EVENTS_PER_SECOND && sustained.load.p99 < 100 && sustained.load.non2xx + sustained.load.errors === 0;
      c.rows.push({ name: `3. same, batches of 100 offered at ${fmt(SUSTAIN_EVENTS_PER_SECOND)} events/s for ${PLAN.sustainSeconds} s`, value: sustained.storedPerSecond, unit: 'events/s',
        latency: `${sustained.load.p50} / ${sustained.load.p99}`, target: `≥ 10,000 events/s sustained ${PLAN.sustainSeconds} s, p99 < 100 ms`, met: ok, load: load1(), note: describeRun(sustained) });
      c.rows.push({ name: `3. same, single-event requests, ${CONNECTIONS.single} connections`, value: single.storedPerSecond, unit: 'events/s', latency: `${single.load.p50} / ${single.load.p99}`, load: load1(), note: describeRun(single) });
      c.rows.push({ name: `3. same, single-event requests, ${CONNECTIONS.singleMany} connections`, value: singleMany.storedPerSecond, unit: 'events/s', latency: `${singleMany.load.p50} / ${singleMany.load.p99}`, load: load1(), note: describeRun(singleMany) });
      const errors = pipelineErrors(p.red);
      if (errors.length) c.notes.push(`pipeline Node-RED logged ${errors.length} error lines, last: ${errors.slice(-2).join(' | ')}`);
    } finally {
      await p.stop();
    }
    // The same pipeline with webhook-in's default output, one message per event.
    const perEvent = await startOurPipeline({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic, redisUrl: c.services.redisUrl, messages: 'event' });
    try {
      await warm(perEvent, topic);
      const batch = await pipelineFigure(c, perEvent, topic, 'ours, one message per event, batches of 100, max', 'batch', PLAN.maxSeconds, CONNECTIONS.batch);
      results.oursPerEvent = batch;
      c.rows.push({ name: `3. same with webhook-in sending one message per event (its default); batches of 100, ${CONNECTIONS.batch} connections`, value: batch.storedPerSecond, unit: 'events/s',
        latency: `${batch.load.p50} / ${batch.load.p99}`, load: load1(), note: describeRun(batch) });
    } finally {
      await perEvent.stop();
    }
  }
  if (want('stock')) {
    const topic = await createTopic(c.services.admin, 'stock');
    c.topics.push(topic);
    let userDir: string;
    try {
      userDir = stockUserDir(log);
    } catch (err) {
      c.rows.push({ name: '4. stock build', value: NaN, unit: 'not measured', note: (err as Error).message.slice(0, 300) });
      return;
    }
    const p = await startStockPipeline({ userDir, brokers: c.services.brokers, topic, profileName: PROFILE ? 'stock' : undefined });
    try {
      await warm(p, topic);
      const batch = await pipelineFigure(c, p, topic, 'stock, batches of 100, max', 'batch', PLAN.maxSeconds, CONNECTIONS.batch);
      const single = await pipelineFigure(c, p, topic, 'stock, single events, max', 'single', PLAN.maxSeconds, CONNECTIONS.single);
      results.stock = { single, batch };
      const name = '4. stock build: http in → function (jsonwebtoken) → node-red-contrib-kafkajs 0.0.7 + http response (answers on receipt)';
      const ratio = (ours?: PipelineRun, stock?: PipelineRun) => (ours && stock ? ours.storedPerSecond / stock.storedPerSecond : undefined);
      const rb = ratio(results.ours?.batch, batch);
      const rs = ratio(results.ours?.single, single);
      c.rows.push({ name: `${name}; batches of 100`, value: batch.storedPerSecond, unit: 'events/s', latency: `${batch.load.p50} / ${batch.load.p99}`, load: load1(),
        note: describeRun(batch) });
      c.rows.push({ name: `4. same, single-event requests, ${CONNECTIONS.single} connections`, value: single.storedPerSecond, unit: 'events/s', latency: `${single.load.p50} / ${single.load.p99}`, load: load1(),
        note: describeRun(single) });
      if (rb !== undefined) c.rows.push({ name: `ratio 3 : 4, batches of 100, ${CONNECTIONS.batch} connections (events stored in Kafka per second)`, value: NaN, unit: '', baseline: 'stock', ratio: rb, target: '≥ 5', met: rb >= 5 });
      const re = ratio(results.oursPerEvent, batch);
      if (re !== undefined) c.rows.push({ name: `ratio 3 : 4, batches of 100, webhook-in one message per event`, value: NaN, unit: '', baseline: 'stock', ratio: re, target: '≥ 5', met: re >= 5 });
      if (rs !== undefined) c.rows.push({ name: `ratio 3 : 4, single events, ${CONNECTIONS.single} connections`, value: NaN, unit: '', baseline: 'stock', ratio: rs, target: '≥ 5', met: rs >= 5 });
    } finally {
      await p.stop();
    }
  }
}

async function sectionWsIn(c: Ctx): Promise<void> {
  const topic = await createTopic(c.services.admin, 'ws-in');
  c.topics.push(topic);
  const r = await benchWsIn({ userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic, events: PLAN.wsEvents, runs: RUNS, log, profileName: PROFILE ? 'ws-in' : undefined });
  c.rows.push({ name: '5. genesys-ws-in (notification channel, simulator in its own process) → kafka-out', value: median(r.rates), unit: 'events/s', load: load1(),
    note: `simulator wrote ${rate(median(r.simulatorRates))}` });
  if (r.errors.length) c.notes.push(`ws-in bench logged errors: ${r.errors.slice(-3).join(' | ')}`);
}

async function sectionSoak(c: Ctx): Promise<void> {
  const topic = await createTopic(c.services.admin, 'soak');
  c.topics.push(topic);
  const r = await soak({
    userDir: userDirWithPackage(c.pkg), brokers: c.services.brokers, topic, redisUrl: c.services.redisUrl, admin: c.services.admin, bodies: c.bodies, token: c.token,
    eventsPerSecond: SOAK_EVENTS_PER_SECOND, seconds: PLAN.soakSeconds, warmupSeconds: PLAN.soakWarmup, log,
  });
  const growth = (r.rssTrendEnd - r.rssTrendStart) / r.rssTrendStart;
  const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
  c.rows.push({ name: `6. memory: push pipeline soak at ${fmt(SOAK_EVENTS_PER_SECOND)} events/s for ${PLAN.soakSeconds} s, Node-RED RSS growth`, value: growth * 100, unit: '%',
    target: '< 10 %', met: growth < 0.1, load: load1(),
    note: `least-squares line through the 1 s samples after a ${PLAN.soakWarmup} s warm-up ${mb(r.rssTrendStart)} → ${mb(r.rssTrendEnd)}; `
      + `median of the first ${r.windowSeconds} s ${mb(r.rssStart)} → of the last ${r.windowSeconds} s ${mb(r.rssEnd)} `
      + `(samples ranged ${mb(r.rssMin)}–${mb(r.rssMax)}; single readings ${mb(r.rssFirst)} → ${mb(r.rssLast)}; ${mb(r.rssBoot)} at boot); `
      + `${fmt(r.run.storedPerSecond)} events/s stored, p50 / p99 ${r.run.load.p50} / ${r.run.load.p99} ms; ${describeRun(r.run)}` });
}

async function sectionEventsOut(c: Ctx): Promise<void> {
  let mod: typeof import('./events-out');
  try {
    mod = require('./events-out');
  } catch (err) {
    c.notes.push(`bench/events-out.ts not loadable: ${(err as Error).message}`);
    return;
  }
  const value = await medianOf('genesys-events-out', async () => (await mod.benchEventsOut({ events: PLAN.eventsOut })).eventsPerSecond);
  c.rows.push({ name: 'genesys-events-out → simulator ingest (bench/events-out.ts, ~330 B events, simulator in-process)', value, unit: 'events/s', load: load1() });
}

/** The webhook-only comparison of bench/webhook (helper H5), when present: run as it is and appended. */
async function sectionWebhook(c: Ctx): Promise<string | undefined> {
  const file = path.join(__dirname, 'webhook', 'bench.ts');
  if (!fs.existsSync(file)) { c.notes.push('bench/webhook/bench.ts not present: webhook-only comparison skipped'); return undefined; }
  const { execFileSync } = await import('node:child_process');
  try {
    return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', file, '--duration', String(QUICK ? 3 : 5)], {
      cwd: path.resolve(__dirname, '..'), env: { ...process.env, KAFKA_BROKERS: c.services.brokers.join(',') }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000,
    });
  } catch (err) {
    c.notes.push(`bench/webhook/bench.ts failed: ${(err as Error).message.slice(0, 300)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadAverage();
  const services = await startServices(log);
  const c: Ctx = { services, pkg: '', bodies: writeBodies(), token: signToken(), topics: [], rows: [], notes: [] };
  let webhook: string | undefined;
  let stages: string | undefined;
  const profileStart = Date.now();
  try {
    if (['kafka-out', 'pipeline', 'ws-in', 'soak', 'stages'].some(want)) c.pkg = buildSnapshot(log);
    if (want('raw') || want('kafka-out') || want('platformatic')) await sectionKafka(c);
    if (want('pipeline') || want('stock')) await sectionPipelines(c);
    if (want('ws-in')) await sectionWsIn(c);
    if (want('soak')) await sectionSoak(c);
    if (want('stages')) {
      stages = await benchStages({ pkg: c.pkg, brokers: services.brokers, redisUrl: services.redisUrl, admin: services.admin, bodies: c.bodies, token: c.token,
        eventsPerSecond: SOAK_EVENTS_PER_SECOND, seconds: PLAN.stageSeconds, topics: c.topics, log });
    }
    if (want('events-out')) await sectionEventsOut(c);
    if (want('webhook')) webhook = await sectionWebhook(c);
  } finally {
    fs.rmSync(c.bodies.dir, { recursive: true, force: true });
    await deleteTopics(services.admin, c.topics);
    await services.stop();
  }
  const header = `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, `
    + `${QUICK ? 'QUICK mode' : 'full mode'}, median of ${RUNS} runs; ${services.origin}; every Node-RED (ours and stock) runs with NODE_OPTIONS=${BENCH_NODE_OPTIONS || '(none)'}; ours with one message per request unless a row says otherwise. The soak measures RSS growth after a ${PLAN.soakWarmup} s warm-up (V8 sizes its heaps in the first minutes), as the rise of the least-squares line through its 1 s samples (window medians swing with V8's GC cycle). Load average (1/5/15 min) at start ${loadAtStart}, at end ${loadAverage()}.`;
  const parts = [`## Benchmark ${new Date().toISOString()}`, '', table(c.rows, header)];
  if (c.notes.length) parts.push('', ...c.notes.map((n) => `- ${n}`));
  parts.push('', `Command: \`${process.env.BENCH_COMMAND || 'npm run bench'}\` (${[QUICK ? 'BENCH_QUICK=1' : '', ONLY.size ? `BENCH_ONLY=${[...ONLY].join(',')}` : '', PROFILE ? 'BENCH_PROFILE=1' : '', process.env.BENCH_RUNS ? `BENCH_RUNS=${RUNS}` : ''].filter(Boolean).join(' ') || 'defaults'}); whole run ${Math.round((Date.now() - started) / 1000)} s.`);
  if (stages) parts.push('', stages);
  if (webhook) parts.push('', webhook.trim());
  if (PROFILE && fs.existsSync(PROFILE_DIR)) {
    for (const f of fs.readdirSync(PROFILE_DIR).filter((n) => n.endsWith('.cpuprofile')).sort()) {
      const full = path.join(PROFILE_DIR, f);
      if (fs.statSync(full).mtimeMs >= profileStart) parts.push('', formatSummary(path.relative(path.resolve(__dirname, '..'), full), summarize(full, 20)));
    }
  }
  const text = parts.join('\n');
  console.log(text);
  log(`\nwritten to ${writeResults(QUICK ? 'bench-quick' : 'bench', text)}`);
}

// Kafka, Redis and Node-RED children are stopped by the objects that started them, also on Ctrl-C.
process.once('SIGINT', () => { log('interrupted'); process.exit(130); });
process.once('SIGTERM', () => { log('terminated'); process.exit(143); });
main().catch((err) => { console.error(err); process.exitCode = 1; });

