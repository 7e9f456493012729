// Throughput of normalize (map + ajv validation) per source shape, and of the dedup stores.
//   npx ts-node --transpile-only test/events/bench.ts            (normalize + memory store)
//   REDIS_URL=redis://127.0.0.1:6379 npx ts-node --transpile-only test/events/bench.ts redis
import { performance } from 'node:perf_hooks';
import { normalizeEvent } from '../../lib/events/normalize';
import { MemoryDedupStore } from '../../lib/events/dedup/memory-store';
import { RedisDedupStore } from '../../lib/events/dedup/redis-store';
import { goldenCases } from './golden-cases';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(11);

/** Events per second of wall time and per second of this process's CPU time (the machine may be shared). */
function bench(name: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 5000); i++) fn(i); // warm up the JIT
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(cpu);
  const wall = n / ((performance.now() - t) / 1000);
  const perCpu = n / ((used.user + used.system) / 1e6);
  console.log(`${name.padEnd(44)} ${fmt(wall)} events/s wall ${fmt(perCpu)} events/CPU-s`);
  return wall;
}

async function main(): Promise<void> {
  const cases = goldenCases().filter((c) => c.expected);
  const N = 100_000;
  for (const c of cases) {
    bench(`normalize ${c.name}`, N, () => {
      const r = normalizeEvent(c.input, c.genesys);
      if (!r.ok) throw new Error(r.error.message);
    });
  }
  const all = cases.map((c) => c.input);
  bench('normalize (all shapes mixed)', N, (i) => { normalizeEvent(all[i % all.length], cases[i % all.length].genesys); });

  const mem = new MemoryDedupStore({ windowMs: 300_000, maxEntries: 200_000 });
  bench('dedup memory store claim (distinct keys)', 1_000_000, (i) => { mem.claimSync(`k${i}`); });

  if (process.argv[2] === 'redis') {
    const prefix = `bench-${process.pid}-${Date.now()}:`;
    const store = new RedisDedupStore({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379', keyPrefix: prefix, windowMs: 60_000, failMode: 'closed' });
    await store.ready();
    const total = 200_000;
    const inFlight = 2_000;
    let next = 0;
    let unique = 0;
    const t = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const k = `k${next++ % (total / 2)}`; // every key twice: half unique, half duplicates
        if ((await store.claim(k)).outcome === 'unique') unique++;
      }
    }));
    const used = process.cpuUsage(cpu);
    const wall = total / ((performance.now() - t) / 1000);
    console.log(`${'dedup redis SET NX PX, auto-pipelined'.padEnd(44)} ${fmt(wall)} events/s wall ${fmt(total / ((used.user + used.system) / 1e6))} events/CPU-s (client side; ${unique} unique of ${total}, ${inFlight} in flight)`);
    await store.clear();
    await store.close();
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
