// Throughput of the notification path: simulator (in a child process) → notification channel socket
// → ChannelManager 'event' in this process, with nothing downstream.
//   npx ts-node --transpile-only test/channels/bench-channels.ts [events=50000]
import { fork } from 'node:child_process';
import { GenesysSimulator } from '../../simulator/server';
import { ChannelManager } from '../../lib/genesys/channels/channel-manager';
import { SimApi } from './support';

const CONVERSATIONS = 200;

async function simulatorChild(): Promise<void> {
  const sim = new GenesysSimulator({ rateLimitPerMinute: 0, port: 0 });
  await sim.start();
  for (let i = 0; i < CONVERSATIONS; i++) {
    sim.world.start({ id: `bench-${i}`, mediaType: 'voice', direction: 'inbound', queueId: 'q-bench', queueName: 'Bench', customerAddress: 'tel:+1', startTime: new Date().toISOString() });
  }
  process.send!({ baseUrl: sim.baseUrl });
  process.on('message', async (m: { go?: number; stop?: boolean }) => {
    if (m.stop) { await sim.stop(); process.exit(0); }
    if (!m.go) return;
    sim.ledger.clear();
    const t0 = performance.now();
    for (let sent = 0; sent < m.go;) {
      for (let j = 0; j < 500 && sent < m.go; j++, sent++) sim.world.update(`bench-${sent % CONVERSATIONS}`, { state: sent % 2 ? 'held' : 'connected' });
      sim.ledger.clear();
      await new Promise((r) => setImmediate(r));
    }
    process.send!({ producedMs: performance.now() - t0 });
  });
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] || 50_000);
  const child = fork(__filename, ['child'], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
  const { baseUrl } = await new Promise<{ baseUrl: string }>((r) => child.once('message', (m) => r(m as { baseUrl: string })));
  // SimApi only needs baseUrl from the simulator object.
  const api = new SimApi({ baseUrl } as GenesysSimulator);
  const m = new ChannelManager({ api });
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  m.on('event', () => { if (++got === total) done(); });
  await m.setTopics(['v2.routing.queues.q-bench.conversations']);
  let producedMs = 0;
  child.on('message', (msg: { producedMs?: number }) => { if (msg.producedMs) producedMs = msg.producedMs; });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  child.send({ go: total });
  await finished;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (let i = 0; i < 50 && !producedMs; i++) await new Promise((r) => setTimeout(r, 20));
  console.log(`${total} events in ${ms.toFixed(0)} ms: ${Math.round(total / (ms / 1000))} events/s through one channel into ChannelManager` +
    ` (simulator produced them in ${producedMs.toFixed(0)} ms; ChannelManager process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`);
  await m.stop();
  child.send({ stop: true });
}

if (process.argv[2] === 'child') void simulatorChild();
else main().catch((err) => { console.error(err); process.exit(1); });
