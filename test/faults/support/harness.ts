// One fault scenario's world: the Genesys simulator with steady traffic, a Redis of its own, a Kafka
// (its own when the scenario breaks it, else the shared one with per-run topic names), a headless
// Node-RED running the complete example pipeline (dist/), and a consumer of the output topics.
// Everything is stopped by the object that started it, never by process name.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, KafkaServer } from '../../../harness/kafka';
import { NodeRedProcess } from '../../../harness/node-red';
import { RedisServer } from '../../../harness/redis';
import { DEFAULT_CLIENT, GenesysSimulator, type SimulatorOptions } from '../../../simulator/server';
import { TrafficGenerator, type TrafficOptions } from '../../../simulator/traffic';
import { meanLifetimeSeconds } from '../../../simulator/traffic-options';
import type { ChannelsState } from '../../../simulator/routes/channels';
import type { AnalyticsSocketState } from '../../../simulator/routes/analytics-ws';
import type { PushState } from '../../../simulator/routes/push';
import { kafkaBrokers } from '../../fixtures/env';
import { TopicCollector } from './collector';
import { pipelineFlow, type PipelineFlow, type PipelineOverrides } from './flow';
import { checkLedger, summarize, type CheckPolicy, type LedgerReport } from './ledger-check';
import type { FaultProfile } from './profile';
import { TcpProxy } from './tcp-proxy';

export interface FaultRunOptions {
  name: string;
  profile: FaultProfile;
  /** 'own': a broker of this scenario; 'proxied': its own broker reached only through a TcpProxy. */
  kafka: 'shared' | 'own' | 'proxied';
  overrides?: Omit<PipelineOverrides, 'topicPrefix'>;
  traffic?: Partial<TrafficOptions>;
  sim?: SimulatorOptions;
  log?: (line: string) => void;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Resident memory of a process in MB (Linux /proc), or NaN. */
export function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch { return NaN; }
}

export class FaultRun {
  readonly sim: GenesysSimulator;
  readonly traffic: TrafficGenerator;
  readonly redis = new RedisServer();
  kafka: KafkaServer | null = null;
  proxy: TcpProxy | null = null;
  red!: NodeRedProcess;
  collector!: TopicCollector;
  pipeline!: PipelineFlow;
  brokers = '';
  /** Milestones (ms since start) for the report. */
  readonly timings: Record<string, number> = {};
  /** Peak RSS of Node-RED while the traffic ran, MB. */
  rssPeakMb = 0;
  /** World changes per second the generator really produced (it falls behind on a busy machine). */
  achievedRate = 0;
  private readonly t0 = Date.now();
  private readonly id = randomBytes(3).toString('hex');
  private memoryTimer: NodeJS.Timeout | null = null;
  /** Answers the platform got to its push POSTs, by HTTP status ('error': no answer). */
  readonly pushAnswers: Record<string, number> = {};
  private lastAttempt: unknown = null;
  readonly log: (line: string) => void;

  constructor(readonly opts: FaultRunOptions) {
    this.sim = new GenesysSimulator({ rateLimitPerMinute: 0, ...opts.sim });
    const seed = randomBytes(4).readUInt32LE(0);
    // Enough conversations at once for the rate: about 7 changes each, lifetimes scaled by timeFactor.
    const timeFactor = 0.005;
    const maxConcurrent = Math.ceil((opts.profile.rate / 7) * meanLifetimeSeconds() * timeFactor * 1.5);
    this.traffic = new TrafficGenerator(this.sim.world, {
      seed, ratePerSecond: opts.profile.rate, timeFactor, queues: 5, agents: 20, maxConcurrent, ...opts.traffic,
    });
    this.log = opts.log ?? ((l) => { if (process.env.FAULTS_VERBOSE) console.log(`    [${opts.name}] ${l}`); });
  }

  mark(name: string): void {
    this.timings[name] = Date.now() - this.t0;
    this.log(`${name} at ${(this.timings[name] / 1000).toFixed(1)} s`);
  }

  get push(): PushState { return this.sim.state.push as PushState; }
  get channels(): ChannelsState { return this.sim.state.channels as ChannelsState; }
  get analytics(): AnalyticsSocketState { return this.sim.state.analytics as AnalyticsSocketState; }
  get webhookSecret(): string { return this.env.WEBHOOK_SECRET; }

  env: Record<string, string> = {};

  async start(): Promise<this> {
    const o = this.opts;
    await this.sim.start();
    await this.redis.start();
    if (o.kafka === 'shared') {
      this.brokers = kafkaBrokers().join(',');
      if (!this.brokers) throw new Error('KAFKA_BROKERS is not set (the global fixture sets it)');
    } else {
      const port = await freePort();
      let properties: Record<string, string> = {};
      if (o.kafka === 'proxied') {
        const proxyPort = await freePort();
        this.proxy = await new TcpProxy(port).listen(proxyPort);
        // Clients bootstrap through the proxy and are told to keep using it (the listener's advertised address).
        properties = { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}` };
      }
      this.kafka = await new KafkaServer({ port, heap: '384m', properties }).start();
      this.brokers = this.kafka.brokers;
    }
    this.mark('services up');
    const prefix = `f${this.id}.`;
    this.pipeline = pipelineFlow({ topicPrefix: prefix, ...merge(defaults(o.profile), o.overrides ?? {}) });
    this.collector = new TopicCollector(this.brokers, this.pipeline.topics, `faults-${this.id}`);
    await this.collector.createTopics();
    const port = await freePort();
    const nodeRedBrokers = this.proxy ? `127.0.0.1:${this.proxy.port}` : this.brokers;
    this.env = {
      GENESYS_REGION: 'custom', GENESYS_BASE_URL: this.sim.baseUrl,
      GENESYS_CLIENT_ID: DEFAULT_CLIENT.id, GENESYS_CLIENT_SECRET: DEFAULT_CLIENT.secret,
      GENESYS_QUEUE_IDS: this.traffic.queues.map((q) => q.id).join(','),
      // A few agents too: their changes arrive twice (queue and user topic), which dedup must absorb.
      GENESYS_USER_IDS: this.traffic.agents.slice(0, 5).map((a) => a.id).join(','),
      KAFKA_BROKERS: nodeRedBrokers, REDIS_URL: this.redis.url,
      WEBHOOK_SECRET: randomBytes(24).toString('base64'), WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    this.red = new NodeRedProcess({ port, env: this.env, flows: [], settings: { logging: { console: { level: 'info', metrics: false, audit: false } } } });
    await this.red.start();
    // Deployed through the admin API like the editor's Import + Deploy: the ${VAR} credentials resolve there.
    await this.deploy();
    await this.sourcesReady();
    this.mark('pipeline ready');
    return this;
  }

  /** Full deploy of the pipeline; resolves when this deploy's flows started. */
  async deploy(): Promise<void> {
    const from = this.red.logLines.length;
    await this.red.deploy(this.pipeline.flow);
    await waitUntil('Started flows', () => this.red.logLines.slice(from).some((l) => /Started flows/.test(l)), 30_000);
  }

  /** The push registration exists, a channel socket is subscribed, the analytics socket is subscribed. */
  async sourcesReady(timeoutMs = 30_000): Promise<void> {
    await waitUntil('push registration, channel socket, analytics subscription', () =>
      this.push.registrations.size === 1
      && this.channels.list().some((ch) => ch.socket !== null && ch.topics.size > 0)
      && this.analytics.openSockets > 0 && this.analytics.subscriptions.length > 0,
    timeoutMs);
  }

  /** Kills Node-RED with SIGKILL and starts it again on the same userDir (flows and credentials on disk, the spool). */
  async killNodeRed(): Promise<void> {
    await this.red.stop('SIGKILL');
    this.red.logLines.length = 0; // start() looks for this run's "Started flows"
  }

  async restartNodeRed(): Promise<void> {
    await this.red.start();
    await this.sourcesReady();
  }

  /**
   * Runs the traffic for the profile's duration with `fault` running beside it, then ends every open
   * conversation (so each has a final state) and waits until the fault script is done too.
   */
  async runTraffic(fault: (run: this) => Promise<void>): Promise<void> {
    this.memoryTimer = setInterval(() => {
      const mb = rssMb(this.red.pid);
      if (mb > this.rssPeakMb) this.rssPeakMb = mb;
      this.tallyPushAnswers();
    }, 250);
    this.mark('traffic started');
    this.traffic.start();
    const faultDone = fault(this);
    const stopAt = sleep(this.opts.profile.trafficSeconds * 1000);
    await Promise.all([faultDone.catch(() => undefined), stopAt]);
    this.achievedRate = this.traffic.stats().changes / ((Date.now() - this.t0 - this.timings['traffic started']) / 1000);
    await this.traffic.stop({ finish: true });
    this.mark('traffic stopped');
    await faultDone;
    this.mark('fault over');
  }

  /**
   * Waits until the platform has nothing left to deliver and the topics hold every ledger event (or the
   * settle time is over), reading the topics with the collector; returns the comparison.
   */
  async settle(policy: CheckPolicy = {}): Promise<LedgerReport> {
    const deadline = Date.now() + this.opts.profile.settleSeconds * 1000;
    await this.collector.start();
    let report: LedgerReport;
    for (;;) {
      await sleep(1000);
      const idle = this.push.pending() === 0;
      const caughtUp = await this.collector.caughtUp().catch(() => false);
      report = checkLedger(this.sim.ledger.entries, this.collector.got, this.sim.world, policy);
      const complete = idle && caughtUp && [report.push, report.raw, report.notification, report.analytics, report.details].every((p) => p.lost === 0);
      this.log(`settling: push pending ${this.push.pending()}, caught up ${caughtUp}, lost push ${report.push.lost} raw ${report.raw.lost} notification ${report.notification.lost} analytics ${report.analytics.lost} details ${report.details.lost}, records ${JSON.stringify(report.records)}`);
      if (complete || Date.now() > deadline) break;
    }
    // A last read: nothing may arrive after "complete" that changes the duplicate count.
    await sleep(1500);
    await waitUntil('consumer caught up', () => this.collector.caughtUp().catch(() => false), 15_000).catch(() => undefined);
    report = checkLedger(this.sim.ledger.entries, this.collector.got, this.sim.world, policy);
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.tallyPushAnswers();
    this.mark('settled');
    this.log(summarize(report));
    return report;
  }

  /** Counts the push attempts logged since the last call (the simulator keeps the last 5,000). */
  tallyPushAnswers(): void {
    const log = this.push.attempts;
    const seen = this.lastAttempt === null ? -1 : log.lastIndexOf(this.lastAttempt as (typeof log)[number]);
    for (const a of log.slice(seen + 1)) this.pushAnswers[String(a.status)] = (this.pushAnswers[String(a.status)] ?? 0) + a.events;
    if (log.length) this.lastAttempt = log[log.length - 1];
  }

  /** Undelivered dead letters in a dlq node's spool (lines after the cursor). */
  spoolDepth(dlqId: string): number {
    const dir = path.join(this.red.userDir, 'genesys-dlq-spool', dlqId);
    if (!fs.existsSync(dir)) return 0;
    let cursor = { segment: 1, offset: 0 };
    try { cursor = JSON.parse(fs.readFileSync(path.join(dir, 'cursor.json'), 'utf8')); } catch { /* none yet */ }
    let lines = 0;
    for (const f of fs.readdirSync(dir)) {
      const m = /^seg-(\d+)\.log$/.exec(f);
      if (!m || Number(m[1]) < cursor.segment) continue;
      const buf = fs.readFileSync(path.join(dir, f));
      const from = Number(m[1]) === cursor.segment ? cursor.offset : 0;
      for (let i = from; i < buf.length; i++) if (buf[i] === 10) lines++;
    }
    return lines;
  }

  totalSpoolDepth(): number {
    return this.pipeline.dlqIds.reduce((n, id) => n + this.spoolDepth(id), 0);
  }

  /**
   * Sum of a metric of the package's Prometheus endpoint (admin API) over the series whose labels
   * contain `labels`; counts since this Node-RED process started.
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.red.url}/genesys-kafka/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{(.*)\})? ([-0-9.e+]+)$/.exec(line);
      if (!m || m[1] !== `genesys_kafka_${name}`) continue;
      const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
    }
    return sum;
  }

  /** [error] lines Node-RED logged (for failure messages). */
  errors(): string[] {
    return this.red.logLines.filter((l) => /\[error\]/.test(l));
  }

  async stop(): Promise<void> {
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    await this.traffic.stop().catch(() => undefined);
    await this.collector?.stop().catch(() => undefined);
    await this.red?.destroy().catch(() => undefined);
    if (this.opts.kafka === 'shared') await this.collector?.deleteTopics();
    await this.sim.stop().catch(() => undefined);
    await this.proxy?.close().catch(() => undefined);
    await this.redis.stop('SIGKILL').catch(() => undefined);
    await this.kafka?.destroy().catch(() => undefined);
  }
}

/** Timings every scenario shares: a retry budget that outlasts the outages, a details query that keeps up. */
function defaults(p: FaultProfile): Omit<PipelineOverrides, 'topicPrefix'> {
  return {
    webhook: { maxRetries: 50, initialDelayMs: 200, maxDelayMs: p.name === 'soak' ? 5000 : 2000, backoffMultiplier: 2, batchSize: 10 },
    details: { interval: 2, settle: 15, lookback: 1 },
    dlq: { spoolAfterMs: 2000 },
  };
}

function merge(a: Omit<PipelineOverrides, 'topicPrefix'>, b: Omit<PipelineOverrides, 'topicPrefix'>): Omit<PipelineOverrides, 'topicPrefix'> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = { ...(a as any)[k], ...v };
  return out as Omit<PipelineOverrides, 'topicPrefix'>;
}
