// Measurement 5: genesys-ws-in (notification channels) → kafka-out in a real Node-RED, with the
// simulator in its own process pushing conversation updates over the channel's WebSocket as fast as
// it can. The figure is events/s from the simulator's start to kafka-out's last ack (a bench-probe
// node counts kafka-out's output).
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { errorLines, postJson, startNodeRed, stopNodeRed } from './nodered';

export interface WsInBenchOptions {
  userDir: string;
  brokers: string[];
  topic: string;
  events: number;
  runs: number;
  profileName?: string;
  log: (line: string) => void;
}

export interface WsInBenchResult { rates: number[]; simulatorRates: number[]; errors: string[] }

interface SimInfo { baseUrl: string; clientId: string; clientSecret: string }

function startSimulator(): Promise<{ child: ChildProcess; info: SimInfo }> {
  const child = fork(path.join(__dirname, 'sim-child.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, info: m as SimInfo }));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
}

function ask<T>(child: ChildProcess, msg: unknown, key: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', on); reject(new Error(`simulator did not answer ${JSON.stringify(msg)}`)); }, timeoutMs);
    const on = (m: Record<string, unknown>) => {
      if (!(key in m)) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg as any);
  });
}

function stopSimulator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.send({ stop: true });
  });
}

export function wsInFlow(sim: SimInfo, brokers: string[], topic: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'bench ws-in' },
    { id: 'genesys', type: 'genesys-config', name: 'simulator', region: 'custom', baseUrl: sim.baseUrl, timeout: 15 },
    { id: 'broker', type: 'kafka-broker', name: 'bench', brokers: brokers.join(','), clientId: 'bench-ws-in', connectionTimeout: 3000, requestTimeout: 30000 },
    { id: 'ws', type: 'genesys-ws-in', z: 'tab', genesys: 'genesys', mode: 'channels', queueIds: 'q-bench', queueIdsType: 'str', userIds: '', userIdsType: 'str',
      topics: '', maxChannels: 10, idleTimeout: 35, reconnectMax: 90, backfill: false, janitor: false, wires: [['out']] },
    { id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic, keyProperty: 'key', headersFromMsg: false, wires: [['acked']] },
    { id: 'acked', type: 'bench-probe', z: 'tab', wires: [['reply']] },
    { id: 'ask', type: 'http in', z: 'tab', url: '/bench/acked', method: 'post', upload: false, wires: [['acked']] },
    { id: 'reply', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
}

export async function benchWsIn(o: WsInBenchOptions): Promise<WsInBenchResult> {
  const { child, info } = await startSimulator();
  let red: Awaited<ReturnType<typeof startNodeRed>> | null = null;
  try {
    red = await startNodeRed({
      userDir: o.userDir, flows: wsInFlow(info, o.brokers, o.topic), profileName: o.profileName,
      credentials: { genesys: { clientId: info.clientId, clientSecret: info.clientSecret } },
    });
    const subscribed = await ask<{ subscribed: number }>(child, { subscribed: true }, 'subscribed');
    if (!subscribed.subscribed) throw new Error(`genesys-ws-in did not subscribe: ${red.log.slice(-1500)}`);
    const url = `${red.url}/bench/acked`;
    const once = async (n: number): Promise<{ rate: number; simulatorRate: number }> => {
      await postJson(url, { reset: true, waitFor: 0 });
      const t0 = Date.now();
      const produced = ask<{ producedMs: number }>(child, { go: n }, 'producedMs');
      const acked = await postJson<{ count: number; lastAt: number; timedOut: boolean }>(url, { waitFor: n, timeoutMs: 300_000 });
      const { producedMs } = await produced;
      if (acked.timedOut) throw new Error(`only ${acked.count} of ${n} events reached Kafka: ${errorLines(red!).slice(-3).join(' | ')}`);
      return { rate: n / ((acked.lastAt - t0) / 1000), simulatorRate: n / (producedMs / 1000) };
    };
    await once(Math.min(10_000, o.events)); // JIT, producer connect
    const rates: number[] = [];
    const simulatorRates: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const r = await once(o.events);
      rates.push(r.rate);
      simulatorRates.push(r.simulatorRate);
      o.log(`  genesys-ws-in → kafka-out run ${i + 1}/${o.runs}: ${Math.round(r.rate).toLocaleString('en-US')} events/s (simulator wrote ${Math.round(r.simulatorRate).toLocaleString('en-US')}/s)`);
    }
    return { rates, simulatorRates, errors: errorLines(red) };
  } finally {
    if (red) await stopNodeRed(red);
    await stopSimulator(child);
  }
}
