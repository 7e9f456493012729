// Measurements 3, 4 and 6: the push pipeline in a real Node-RED, driven over HTTP by autocannon.
//   ours:  genesys-webhook-in (JWT, answers after delivery) → dedup (Redis) → normalize → kafka-out
//   stock: http in → function (jsonwebtoken.verify, one message per event) → node-red-contrib-kafkajs
//          kafkajs-producer, and → http response (that producer has no output and does not wait for
//          the broker, so the stock flow answers on receipt)
// Events/s are counted where they end up: records that reached the Kafka topic during the load plus
// the time the topic took to stop growing afterwards. Latency is autocannon's per-request latency.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Admin } from 'kafkajs';
import { Redis } from 'ioredis';
import type { NodeRedProcess } from '../harness/node-red';
import { AUDIENCE, ISSUER, WEBHOOK_SECRET, runLoad, type BodyFiles, type LoadOptions, type LoadResult } from './load';
import { cpuSecondsOf, errorLines, rssOf, startNodeRed, stopNodeRed } from './nodered';
import { benchCache } from './snapshot';
import { topicCount } from './services';

export const PUSH_PATH = '/bench/push';
export const STOCK_PACKAGES = ['node-red-contrib-kafkajs@0.0.7'];

/** The full pipeline, or it with one stage changed or left out (to see what each stage costs). */
export type PipelineVariant = 'full' | 'memory-dedup' | 'no-dedup' | 'no-normalize' | 'webhook-kafka' | 'webhook-only';

/** webhook-in's output: one message per request (event batch, the default here) or per event. */
export type PipelineMessages = 'request' | 'event';

export function ourPipelineFlow(o: { brokers: string[]; topic: string; redisUrl: string; keyPrefix: string; variant?: PipelineVariant; messages?: PipelineMessages; clientThread?: 'worker' | 'main' }): unknown[] {
  const v = o.variant ?? 'full';
  const useDedup = v === 'full' || v === 'memory-dedup' || v === 'no-normalize';
  const useNormalize = v === 'full' || v === 'memory-dedup' || v === 'no-dedup';
  const first = useDedup ? 'dedup' : useNormalize ? 'normalize' : 'out';
  const flow: unknown[] = [
    { id: 'tab', type: 'tab', label: 'bench push pipeline' },
    { id: 'broker', type: 'kafka-broker', name: 'bench', brokers: o.brokers.join(','), clientId: 'bench-pipeline', connectionTimeout: 3000, requestTimeout: 30000, clientThread: o.clientThread ?? 'worker' },
    { id: 'webhook', type: 'genesys-webhook-in', z: 'tab', path: PUSH_PATH, ack: v === 'webhook-only' ? 'receipt' : 'delivery', output: o.messages ?? 'request', settlements: 1, ackTimeout: 10,
      maxUnsettled: 20000, overloadStatus: '503', maxBodyKb: 1024, issuer: ISSUER, audience: AUDIENCE, clockTolerance: 30, secretSource: 'env',
      secretEnv: 'BENCH_WEBHOOK_SECRET', secretEncoding: 'text', tokenCache: true, listener: 'httpNode', register: false, wires: [v === 'webhook-only' ? [] : [first]] },
  ];
  if (useDedup) {
    flow.push({ id: 'dedup', type: 'dedup', z: 'tab', keyMode: 'auto', window: 120, store: v === 'memory-dedup' ? 'memory' : 'redis', redisUrl: o.redisUrl,
      keyPrefix: o.keyPrefix, failMode: 'open', duplicates: 'drop', wires: [[useNormalize ? 'normalize' : 'out'], [], []] });
  }
  if (useNormalize) flow.push({ id: 'normalize', type: 'normalize', z: 'tab', shape: 'auto', rawOutput: false, wires: [['out'], []] });
  if (v !== 'webhook-only') flow.push({ id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic: o.topic, keyProperty: 'key', headersFromMsg: false, wires: [[]] });
  return flow;
}

// What a user would write in the function node (jsonwebtoken comes in through the node's "Setup" modules).
const STOCK_FUNCTION = `
try {
  const h = msg.req.headers.authorization || '';
  jwt.verify(h.slice(7), env.get('BENCH_WEBHOOK_SECRET'), { algorithms: ['HS256'], issuer: '${ISSUER}', audience: '${AUDIENCE}' });
} catch (e) {
  msg.statusCode = 401;
  msg.payload = { error: 'unauthorized' };
  return [null, msg];
}
const events = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
const records = events.map((e) => ({ payload: JSON.stringify(e), key: e && e.data ? e.data.conversationId : undefined }));
msg.statusCode = 200;
msg.payload = { accepted: events.length };
return [records, msg];`;

export function stockPipelineFlow(o: { brokers: string[]; topic: string }): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'bench stock pipeline' },
    { id: 'client', type: 'kafkajs-client', name: 'bench', brokers: o.brokers.join(','), clientid: 'bench-stock', logLevel: 'error',
      connectiontimeout: '3000', requesttimeout: '30000', auth: 'none', advancedretry: false },
    { id: 'in', type: 'http in', z: 'tab', url: PUSH_PATH, method: 'post', upload: false, wires: [['verify']] },
    { id: 'verify', type: 'function', z: 'tab', func: STOCK_FUNCTION, outputs: 2, timeout: 0, libs: [{ var: 'jwt', module: 'jsonwebtoken' }], wires: [['producer'], ['reply']] },
    { id: 'producer', type: 'kafkajs-producer', z: 'tab', client: 'client', topic: o.topic, advancedoptions: false, acknowledge: 'all', partition: null,
      headeritems: {}, key: null, responsetimeout: 30000, transactiontimeout: 60000, metadatamaxage: 300000, allowautotopiccreation: false, wires: [] },
    { id: 'reply', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
}

/**
 * A userDir for the stock build: node-red-contrib-kafkajs from the npm registry (installed once into
 * .cache/bench/stock, never a project dependency) and jsonwebtoken (the project's devDependency) as the
 * function node's external module.
 */
export function stockUserDir(log: (line: string) => void): string {
  const cache = path.join(benchCache, 'stock');
  const marker = path.join(cache, '.installed');
  const jwtDir = path.resolve(__dirname, '..', 'node_modules', 'jsonwebtoken');
  const wanted = [...STOCK_PACKAGES, `jsonwebtoken@file:${jwtDir}`].join(' ');
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8') !== wanted) {
    log(`installing ${STOCK_PACKAGES.join(', ')} from the npm registry into .cache/bench/stock…`);
    fs.rmSync(cache, { recursive: true, force: true });
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, 'package.json'), JSON.stringify({ name: 'bench-stock-userdir', private: true }));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--save', ...STOCK_PACKAGES, jwtDir], { cwd: cache, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
    fs.writeFileSync(marker, wanted);
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-stock-'));
  fs.copyFileSync(path.join(cache, 'package.json'), path.join(userDir, 'package.json'));
  fs.symlinkSync(path.join(cache, 'node_modules'), path.join(userDir, 'node_modules'), 'dir');
  return userDir;
}

export interface PipelineRun {
  load: LoadResult;
  /** Events per request body. */
  batch: number;
  /** Events answered 2xx per second. */
  answeredPerSecond: number;
  /** Records that reached the topic per second (load time + drain time). */
  storedPerSecond: number;
  /** 2xx-answered events missing from the topic after it drained (answered but lost). */
  lost: number;
  drainMs: number;
  rssBefore: number;
  rssAfter: number;
  /** Node-RED process CPU during the load: share of one core, and CPU µs per stored event. */
  cpuCores: number;
  cpuUsPerEvent: number;
  /** Share of one core Node-RED's main thread used (the Kafka client thread and others excluded). */
  mainThreadCores: number;
}

/** One autocannon run against a running pipeline, counting what reached the topic. */
export async function measurePipeline(red: NodeRedProcess, admin: Admin, topic: string, load: Omit<LoadOptions, 'url'>, batch: number): Promise<PipelineRun> {
  const before = await topicCount(admin, topic);
  const rssBefore = rssOf(red.pid);
  const cpu0 = cpuSecondsOf(red.pid);
  const main0 = cpuSecondsOf(red.pid, true);
  const result = await runLoad({ ...load, url: `${red.url}${PUSH_PATH}` });
  const cpu = cpuSecondsOf(red.pid) - cpu0;
  const mainCpu = cpuSecondsOf(red.pid, true) - main0;
  const rssAfter = rssOf(red.pid);
  // The stock flow answers before Kafka has the records: wait until the topic stops growing.
  const t0 = Date.now();
  let count = await topicCount(admin, topic);
  let stableSince = Date.now();
  while (Date.now() - stableSince < 1500 && Date.now() - t0 < 60_000) {
    await new Promise((r) => setTimeout(r, 250));
    const c = await topicCount(admin, topic);
    if (c !== count) { count = c; stableSince = Date.now(); }
  }
  const drainMs = Math.max(0, stableSince - t0);
  const stored = count - before;
  return {
    load: result, batch, rssBefore, rssAfter, drainMs,
    cpuCores: cpu / result.seconds,
    mainThreadCores: mainCpu / result.seconds,
    // Per event that went through (answered on receipt when nothing is stored).
    cpuUsPerEvent: (cpu * 1e6) / Math.max(stored, result.ok * batch, 1),
    answeredPerSecond: (result.ok * batch) / result.seconds,
    storedPerSecond: stored / (result.seconds + drainMs / 1000),
    lost: Math.max(0, result.ok * batch - stored),
  };
}

/** What a measurement that drives the push pipeline at a fixed rate needs (stages.ts, soak.ts). */
export interface PipelineLoadOptions {
  brokers: string[];
  redisUrl: string;
  admin: Admin;
  bodies: BodyFiles;
  token: string;
  eventsPerSecond: number;
  seconds: number;
}

export interface PipelineProcess { red: NodeRedProcess; stop(): Promise<void> }

export async function startOurPipeline(o: { userDir: string; brokers: string[]; topic: string; redisUrl: string; profileName?: string; variant?: PipelineVariant; messages?: PipelineMessages; clientThread?: 'worker' | 'main' }): Promise<PipelineProcess> {
  const keyPrefix = `bench:${process.pid}:${Date.now().toString(36)}:`;
  const red = await startNodeRed({
    userDir: o.userDir, flows: ourPipelineFlow({ ...o, keyPrefix }), profileName: o.profileName,
    env: { BENCH_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
  return {
    red,
    stop: async () => {
      await stopNodeRed(red);
      await deleteRedisKeys(o.redisUrl, keyPrefix);
    },
  };
}

export async function startStockPipeline(o: { userDir: string; brokers: string[]; topic: string; profileName?: string }): Promise<PipelineProcess> {
  const red = await startNodeRed({
    userDir: o.userDir, flows: stockPipelineFlow(o), profileName: o.profileName,
    env: { BENCH_WEBHOOK_SECRET: WEBHOOK_SECRET },
    settings: { functionExternalModules: true, externalModules: { autoInstall: false } },
  });
  // kafkajs-producer drops messages until its producer connected.
  await new Promise((r) => setTimeout(r, 1500));
  return { red, stop: () => stopNodeRed(red) };
}

/** Removes the dedup keys a run left in a shared Redis. */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch { /* the bench's own Redis is gone already; keys expire with the window anyway */ } finally {
    redis.disconnect();
  }
}

export function pipelineErrors(red: NodeRedProcess): string[] {
  return errorLines(red);
}
