// The Genesys Cloud simulator in a process of its own for the benchmark (so its CPU is not the
// measured process's). Messages from the parent (IPC):
//   → {subscribed: true}   answered {subscribed: n} once a notification channel with topics has a socket
//   → {go: n}              n conversation updates on the bench queue as fast as the simulator renders
//                          and writes them (yielding every 500), answered {producedMs}
//   → {stop: true}         stops the simulator and exits
// Sends {baseUrl, clientId, clientSecret} when listening.
import { DEFAULT_CLIENT, GenesysSimulator } from '../simulator/server';
import type { ChannelsState } from '../simulator/routes/channels';

export const BENCH_QUEUE = 'q-bench';
const CONVERSATIONS = 200;

async function main(): Promise<void> {
  const sim = new GenesysSimulator({ rateLimitPerMinute: 0, port: 0 });
  await sim.start();
  for (let i = 0; i < CONVERSATIONS; i++) {
    sim.world.start({ id: `bench-${i}`, mediaType: 'voice', direction: 'inbound', queueId: BENCH_QUEUE, queueName: 'Bench', customerAddress: 'tel:+15555550123', startTime: new Date().toISOString() });
  }
  sim.ledger.clear();
  const channels = sim.state.channels as ChannelsState;
  const send = (m: unknown) => process.send!(m);
  process.on('message', async (m: { go?: number; stop?: boolean; subscribed?: boolean }) => {
    if (m.stop) {
      await sim.stop();
      process.exit(0);
    }
    if (m.subscribed) {
      const deadline = Date.now() + 30_000;
      let n = 0;
      while (Date.now() < deadline && (n = channels.list().filter((c) => c.socket && c.topics.size > 0).length) === 0) await new Promise((r) => setTimeout(r, 50));
      send({ subscribed: n });
    }
    if (m.go) {
      const t0 = performance.now();
      for (let sent = 0; sent < m.go;) {
        for (let j = 0; j < 500 && sent < m.go; j++, sent++) sim.world.update(`bench-${sent % CONVERSATIONS}`, { state: sent % 2 ? 'held' : 'connected' });
        sim.ledger.clear(); // the ledger is for tests; here it would only grow
        await new Promise((r) => setImmediate(r));
      }
      send({ producedMs: performance.now() - t0 });
    }
  });
  process.on('disconnect', () => { void sim.stop().finally(() => process.exit(0)); });
  send({ baseUrl: sim.baseUrl, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
}

main().catch((err) => { console.error(err); process.exit(1); });
