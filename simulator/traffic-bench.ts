// How fast the traffic generator produces changes. Run from the package root:
//   npx ts-node --transpile-only simulator/traffic-bench.ts [--changes 1000000] [--rate 20000] [--seconds 2]
// 1) synchronous generate() into a bare world, 2) the same into a started simulator (every route
// listening, no client connected), 3) timer mode paced at --rate.
import { ConversationWorld } from './world';
import { GenesysSimulator } from './server';
import { TrafficGenerator, type TrafficOptions } from './traffic';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const opts: TrafficOptions = { seed: 1, maxConcurrent: 10_000, timeFactor: 0.001, retainEnded: false, duplicateRate: 0.01, outOfOrderRate: 0.01, malformedRate: 0.001, driftRate: 0.1 };

function syncRate(world: ConversationWorld, n: number): number {
  const gen = new TrafficGenerator(world, { ...opts, ratePerSecond: 100_000 });
  gen.generate(Math.min(n / 10, 50_000)); // warm up the JIT and fill the center
  const t0 = performance.now();
  gen.generate(n);
  return Math.round((n / (performance.now() - t0)) * 1000);
}

async function main(): Promise<void> {
  const n = arg('changes', 1_000_000);
  const rate = arg('rate', 20_000);
  const seconds = arg('seconds', 2);

  const bare = new ConversationWorld();
  bare.on('change', () => undefined);
  console.log(`generate() into a bare world:        ${syncRate(bare, n)} changes/s`);

  const sim = new GenesysSimulator();
  await sim.start();
  console.log(`generate() into a started simulator: ${syncRate(sim.world, n / 10)} changes/s (every route listening, no client)`);
  await sim.stop();

  const world = new ConversationWorld();
  let count = 0;
  world.on('change', () => { count++; });
  const gen = new TrafficGenerator(world, { ...opts, ratePerSecond: rate });
  const t0 = performance.now();
  gen.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await gen.stop();
  const achieved = Math.round((count / (performance.now() - t0)) * 1000);
  console.log(`timer mode at ${rate}/s target:      ${achieved} changes/s (lag ${Math.round(gen.stats().lagMs)} ms)`);
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
