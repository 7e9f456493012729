// A real single-node Apache Kafka broker (KRaft) on loopback, for tests, benchmarks and the demo.
// Jars come from Maven Central through Maven and are cached in .cache/kafka/<version>/libs.
// The JVM is stopped by the PID recorded here; stale runs from a killed test process are reaped
// on the next start by the PID file they left behind.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const DEFAULT_KAFKA_VERSION = '4.3.1';
const repoRoot = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'package.json')) ? '' : '..');
const cacheRoot = process.env.KAFKA_CACHE_DIR || path.join(repoRoot, '.cache', 'kafka');

export interface KafkaServerOptions {
  version?: string;
  /** Broker port; a free one is chosen when omitted. */
  port?: number;
  /** Java heap, default 512m. */
  heap?: string;
  /** Extra broker properties. */
  properties?: Record<string, string>;
  log?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Fetches the broker jars once per version (Maven, Maven Central) and returns the classpath folder. */
export function ensureKafkaJars(version = DEFAULT_KAFKA_VERSION, log: (l: string) => void = () => undefined): string {
  const libs = path.join(cacheRoot, version, 'libs');
  const marker = path.join(cacheRoot, version, '.complete');
  if (fs.existsSync(marker)) return libs;
  log(`fetching Apache Kafka ${version} jars with Maven into ${libs}`);
  fs.rmSync(libs, { recursive: true, force: true });
  const pom = path.join(repoRoot, 'harness', 'kafka', 'pom.xml');
  const res = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies',
    `-Dkafka.version=${version}`, `-DoutputDirectory=${libs}`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`mvn could not fetch Kafka ${version}: ${(res.stdout || '') + (res.stderr || '')}`.slice(0, 4000));
  }
  fs.writeFileSync(marker, new Date().toISOString());
  return libs;
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Kills JVMs left by test processes that died without cleaning up (their owner PID is gone). */
function reapStaleRuns(runsDir: string): void {
  if (!fs.existsSync(runsDir)) return;
  for (const name of fs.readdirSync(runsDir)) {
    const pidFile = path.join(runsDir, name, 'pids.json');
    if (!fs.existsSync(pidFile)) continue;
    try {
      const { owner, broker } = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { owner: number; broker: number };
      if (pidAlive(owner)) continue;
      // Only kill it if it is still our JVM (the PID may have been reused).
      const cmdline = fs.readFileSync(`/proc/${broker}/cmdline`, 'utf8');
      if (cmdline.includes(path.join(runsDir, name))) process.kill(broker, 'SIGKILL');
    } catch { /* gone already */ }
    fs.rmSync(path.join(runsDir, name), { recursive: true, force: true });
  }
}

export class KafkaServer {
  readonly version: string;
  port = 0;
  controllerPort = 0;
  runDir = '';
  private child: ChildProcess | null = null;
  private libs = '';
  private readonly opts: KafkaServerOptions;
  private exitHook = (): void => { if (this.child?.pid) try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* */ } };

  constructor(opts: KafkaServerOptions = {}) {
    this.opts = opts;
    this.version = opts.version || process.env.KAFKA_VERSION || DEFAULT_KAFKA_VERSION;
  }

  get brokers(): string { return `127.0.0.1:${this.port}`; }
  get pid(): number | undefined { return this.child?.pid; }
  get logFile(): string { return path.join(this.runDir, 'server.log'); }

  /** Prepares a fresh log dir, formats it and starts the broker; resolves when it answers metadata. */
  async start(): Promise<this> {
    const log = this.opts.log || (() => undefined);
    this.libs = ensureKafkaJars(this.version, log);
    const runsDir = path.join(cacheRoot, 'runs');
    reapStaleRuns(runsDir);
    this.port = this.opts.port || await freePort();
    this.controllerPort = await freePort();
    this.runDir = path.join(runsDir, `${process.pid}-${Date.now()}-${this.port}`);
    fs.mkdirSync(path.join(this.runDir, 'data'), { recursive: true });
    const props: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@127.0.0.1:${this.controllerPort}`,
      'listeners': `PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': path.join(this.runDir, 'data'),
      'num.partitions': '3',
      'offsets.topic.replication.factor': '1',
      'offsets.topic.num.partitions': '3',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'share.coordinator.state.topic.replication.factor': '1',
      'share.coordinator.state.topic.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      'auto.create.topics.enable': 'true',
      'log.flush.interval.messages': '1000000',
      ...this.opts.properties,
    };
    fs.writeFileSync(path.join(this.runDir, 'server.properties'),
      Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    fs.writeFileSync(path.join(this.runDir, 'log4j2.properties'), [
      'rootLogger.level=INFO', 'rootLogger.appenderRef.f.ref=F',
      'appender.f.type=File', 'appender.f.name=F', `appender.f.fileName=${this.logFile}`,
      'appender.f.layout.type=PatternLayout', 'appender.f.layout.pattern=[%d] %p %m (%c)%n',
    ].join('\n') + '\n');
    fs.writeFileSync(path.join(this.runDir, 'log4j.properties'), [
      'log4j.rootLogger=INFO, F', 'log4j.appender.F=org.apache.log4j.FileAppender',
      `log4j.appender.F.File=${this.logFile}`, 'log4j.appender.F.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.F.layout.ConversionPattern=[%d] %p %m (%c)%n',
    ].join('\n') + '\n');
    const format = spawnSync('java', [...this.jvmArgs('256m'), 'kafka.tools.StorageTool', 'format',
      '-t', randomUUID().replace(/-/g, '').slice(0, 22), '-c', path.join(this.runDir, 'server.properties'), '--ignore-formatted'],
    { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stdout}${format.stderr}`);
    await this.launch();
    return this;
  }

  private jvmArgs(heap: string): string[] {
    return [`-Xmx${heap}`, `-Xms${heap === '256m' ? '64m' : '256m'}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${path.join(this.runDir, 'log4j2.properties')}`,
      `-Dlog4j.configuration=file:${path.join(this.runDir, 'log4j.properties')}`,
      `-Dkafka.logs.dir=${this.runDir}`,
      '-cp', `${this.libs}/*`];
  }

  /** Starts the JVM on the existing log dir (also used to restart after stop/kill). */
  async launch(): Promise<void> {
    const out = fs.openSync(path.join(this.runDir, 'stdout.log'), 'a');
    const child = spawn('java', [...this.jvmArgs(this.opts.heap || '512m'), 'kafka.Kafka',
      path.join(this.runDir, 'server.properties')], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.child = child;
    fs.writeFileSync(path.join(this.runDir, 'pids.json'), JSON.stringify({ owner: process.pid, broker: child.pid }));
    process.on('exit', this.exitHook);
    let exited = false;
    child.once('exit', () => { exited = true; });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`Kafka exited during start-up; see ${this.runDir}/stdout.log and server.log`);
      if (await this.answers()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    await this.stop();
    throw new Error(`Kafka did not become ready within 90 s; see ${this.runDir}`);
  }

  /** True when the broker log says it started and its port accepts connections. */
  private async answers(): Promise<boolean> {
    let started = false;
    try { started = /Kafka Server started|\[KafkaRaftServer nodeId=1\] Kafka Server started/.test(fs.readFileSync(this.logFile, 'utf8')); } catch { /* not yet */ }
    if (!started) return false;
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  }

  /** Graceful stop (SIGTERM, then SIGKILL after a timeout). Keeps the data for a later launch(). */
  async stop(timeoutMs = 20_000): Promise<void> {
    await this.signal('SIGTERM', timeoutMs);
  }

  /** Hard kill, as a crash would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  private async signal(sig: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.child = null; return; }
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(sig);
    const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* */ } }, timeoutMs);
    await done;
    clearTimeout(timer);
    process.removeListener('exit', this.exitHook);
    this.child = null;
  }

  /** Stops the broker and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.runDir) fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}
