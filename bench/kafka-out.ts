// Measurement 2: kafka-out inside a real headless Node-RED, fed as fast as it takes. bench-feed
// (bench/nodered-nodes) sends N pre-built messages (the 1 KB event of common.ts as an object, so
// kafka-out serializes it) keeping at most `window` unacknowledged, and counts kafka-out's output
// (emitted after the broker's ack). The clock runs inside Node-RED from the first send to the last ack.
import { sampleEvent } from './common';
import { cpuSecondsOf, errorLines, postJson, startNodeRed, stopNodeRed } from './nodered';

export interface KafkaOutBenchOptions {
  /** Node-RED userDir with the package installed (snapshot.ts). */
  userDir: string;
  brokers: string[];
  topic: string;
  /** Messages per measured run. */
  total: number;
  runs: number;
  /** Most unacknowledged messages the feeder allows (kafka-out's own queue bound applies too). */
  window?: number;
  profileName?: string;
  /** 'echo': a pass-through node in kafka-out's place (what Node-RED's routing alone costs). */
  target?: 'kafka-out' | 'echo';
  /** kafka-broker's client thread (default: the node's default, a worker thread). */
  clientThread?: 'worker' | 'main';
  log: (line: string) => void;
}

export interface KafkaOutBenchResult {
  rates: number[];
  /** Node-RED process CPU µs per message, per run (independent of other load on the machine). */
  cpuUsPerMsg: number[];
  errors: string[];
}

export function kafkaOutFlow(brokers: string[], topic: string, target: 'kafka-out' | 'echo' = 'kafka-out', clientThread: 'worker' | 'main' = 'worker'): unknown[] {
  const out = target === 'echo'
    ? { id: 'out', type: 'bench-echo', z: 'tab', wires: [['feed']] }
    // kafka-out as shipped (defaults: linger 5 ms, 1000 records per batch, 10,000 queued).
    : { id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic, keyProperty: 'key', headersFromMsg: false, wires: [['feed']] };
  return [
    { id: 'tab', type: 'tab', label: 'bench kafka-out' },
    { id: 'broker', type: 'kafka-broker', name: 'bench', brokers: brokers.join(','), clientId: 'bench-kafka-out', connectionTimeout: 3000, requestTimeout: 30000,
      clientThread },
    { id: 'start', type: 'http in', z: 'tab', url: '/bench/feed', method: 'post', upload: false, wires: [['feed']] },
    { id: 'feed', type: 'bench-feed', z: 'tab', wires: [['out'], ['reply']] },
    { id: 'reply', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
    out,
    { id: 'catch', type: 'catch', z: 'tab', scope: ['out'], uncaught: false, wires: [['feed']] },
  ];
}

export interface KafkaOutFeeder {
  /** Feeds n messages and resolves msgs/s and the Node-RED process's CPU µs per message. */
  run(n: number): Promise<{ rate: number; cpuUsPerMsg: number }>;
  errors(): string[];
  stop(): Promise<void>;
}

/** Starts Node-RED with the feed flow and warms it up (producer connected, JIT). */
export async function startKafkaOutFeeder(o: Omit<KafkaOutBenchOptions, 'total' | 'runs' | 'log'> & { warmup: number }): Promise<KafkaOutFeeder> {
  const red = await startNodeRed({ userDir: o.userDir, flows: kafkaOutFlow(o.brokers, o.topic, o.target, o.clientThread), profileName: o.profileName });
  const template = JSON.parse(sampleEvent(0).value);
  const keys = Array.from({ length: 5000 }, (_, i) => `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const window = o.window ?? 10_000;
  const feed = (n: number) => postJson<{ ms: number; n: number; failed: number }>(`${red.url}/bench/feed`, { n, window, template, keys });
  try {
    await feed(o.warmup);
  } catch (err) {
    await stopNodeRed(red);
    throw err;
  }
  return {
    async run(n) {
      const cpu0 = cpuSecondsOf(red.pid);
      const r = await feed(n);
      const cpu = cpuSecondsOf(red.pid) - cpu0;
      if (r.failed) throw new Error(`kafka-out failed ${r.failed} of ${r.n} messages: ${errorLines(red).slice(-3).join(' | ')}`);
      return { rate: r.n / (r.ms / 1000), cpuUsPerMsg: (cpu * 1e6) / n };
    },
    errors: () => errorLines(red),
    stop: () => stopNodeRed(red),
  };
}

export async function benchKafkaOut(o: KafkaOutBenchOptions): Promise<KafkaOutBenchResult> {
  const feeder = await startKafkaOutFeeder({ ...o, warmup: Math.min(20_000, o.total) });
  const rates: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const r = await feeder.run(o.total);
      rates.push(r.rate);
      cpu.push(r.cpuUsPerMsg);
      o.log(`  ${o.target === 'echo' ? 'pass-through node' : 'kafka-out'} in Node-RED run ${i + 1}/${o.runs}: ${Math.round(r.rate).toLocaleString('en-US')} msgs/s`);
    }
    return { rates, cpuUsPerMsg: cpu, errors: feeder.errors() };
  } finally {
    await feeder.stop();
  }
}
