import { strict as assert } from 'node:assert';
import { ConversationWorld, type ConversationChange, type SimState } from '../../simulator/world';
import { startTraffic, TrafficGenerator, type TrafficOptions } from '../../simulator/traffic';

// Every transition the lifecycle may take (queued → alerting → connected ⇄ held → … → wrapup → ended).
const NEXT: Record<SimState, SimState[]> = {
  queued: ['alerting', 'ended'],                       // answered, or abandoned
  alerting: ['connected', 'queued'],                   // answered, or ring-no-answer back to the queue
  connected: ['held', 'wrapup', 'queued', 'alerting'], // hold, wrap-up, transfer to a queue or an agent
  held: ['connected'],
  wrapup: ['ended'],
  ended: [],
};

function record(opts: TrafficOptions, n: number): { changes: ConversationChange[]; gen: TrafficGenerator; world: ConversationWorld } {
  const world = new ConversationWorld();
  const changes: ConversationChange[] = [];
  world.on('change', (c: ConversationChange) => changes.push(c));
  const gen = new TrafficGenerator(world, opts);
  gen.generate(n);
  return { changes, gen, world };
}

const fingerprint = (c: ConversationChange) => {
  const v = c.conversation;
  return [c.kind, v.id, v.seq, v.state, v.mediaType, v.queueId, v.agentId ?? '', v.customerAddress, JSON.stringify(c.delivery ?? null), JSON.stringify(v.drift ?? null)].join('|');
};

describe('traffic generator', () => {
  it('is deterministic for a seed, and another seed gives other traffic', () => {
    const opts: TrafficOptions = { queues: 4, agents: 10, maxConcurrent: 30, duplicateRate: 0.05, outOfOrderRate: 0.05, malformedRate: 0.05, driftRate: 0.2 };
    const a = record({ ...opts, seed: 42 }, 2000);
    const b = record({ ...opts, seed: 42 }, 2000);
    const c = record({ ...opts, seed: 43 }, 2000);
    assert.equal(a.changes.length, 2000);
    assert.deepEqual(a.gen.queues, b.gen.queues);
    assert.deepEqual(a.gen.agents, b.gen.agents);
    assert.deepEqual(a.changes.map(fingerprint), b.changes.map(fingerprint));
    assert.notDeepEqual(a.changes.map(fingerprint), c.changes.map(fingerprint));
    assert.notEqual(a.gen.queues[0].id, c.gen.queues[0].id);
  });

  it('paces the same sequence in timer mode as generate() produces synchronously', async () => {
    const opts: TrafficOptions = { seed: 9, ratePerSecond: 5000, timeFactor: 0.0002, maxConcurrent: 40 };
    const sync = record(opts, 400).changes.map(fingerprint);
    const world = new ConversationWorld();
    const timed: string[] = [];
    world.on('change', (c: ConversationChange) => timed.push(fingerprint(c)));
    const gen = new TrafficGenerator(world, opts);
    await gen.runFor(400);
    assert.equal(gen.running, false);
    assert.deepEqual(timed, sync);
  });

  it('walks valid lifecycles: seq +1 per change, every started conversation ends when run to completion', () => {
    const { changes, gen } = record({ seed: 7, queues: 3, agents: 5, maxConcurrent: 50 }, 5000);
    gen.finish();
    assert.equal(gen.stats().active, 0);
    const last = new Map<string, ConversationChange>();
    for (const ch of changes) {
      const c = ch.conversation;
      const prev = last.get(c.id);
      if (!prev) {
        assert.equal(ch.kind, 'start');
        assert.equal(c.seq, 1);
        assert.equal(c.state, 'queued');
      } else {
        assert.notEqual(prev.conversation.state, 'ended', `${c.id} changed after its end`);
        assert.equal(c.seq, prev.conversation.seq + 1, `${c.id} seq`);
        assert.ok(NEXT[prev.conversation.state].includes(c.state), `${prev.conversation.state} → ${c.state}`);
        assert.equal(ch.kind, c.state === 'ended' ? 'end' : 'update');
      }
      if (c.state === 'alerting' || c.state === 'connected' || c.state === 'held' || c.state === 'wrapup') assert.ok(c.agentId && c.agentName, 'agent set');
      assert.ok(gen.queues.some((q) => q.id === c.queueId && q.name === c.queueName), 'known queue');
      last.set(c.id, ch);
    }
    const stats = gen.stats();
    assert.equal(last.size, stats.started);
    for (const [id, ch] of last) assert.equal(ch.conversation.state, 'ended', `${id} never ended`);
    assert.equal(stats.ended, stats.started);
    // The lifecycle's branches all occur in 5000 changes.
    const seen = new Set(changes.map((c) => c.conversation.state));
    assert.deepEqual([...seen].sort(), ['alerting', 'connected', 'ended', 'held', 'queued', 'wrapup']);
    assert.ok(changes.some((c) => c.conversation.transfers > 0), 'transfers happen');
    assert.deepEqual(new Set(changes.map((c) => c.conversation.mediaType)), new Set(['voice', 'chat', 'email', 'sms']));
    const voice = changes.find((c) => c.conversation.mediaType === 'voice')!.conversation.customerAddress;
    const email = changes.find((c) => c.conversation.mediaType === 'email')!.conversation.customerAddress;
    assert.match(voice, /^tel:\+1555\d{7}$/);
    assert.match(email, /^[a-z]+\.[a-z]+@example\.com$/);
  });

  it('never exceeds maxConcurrent, and forgets ended conversations when retainEnded is off', () => {
    const world = new ConversationWorld();
    const gen = new TrafficGenerator(world, { seed: 3, maxConcurrent: 25, retainEnded: false });
    let maxActive = 0;
    world.on('change', () => { maxActive = Math.max(maxActive, gen.stats().active); });
    gen.generate(3000);
    assert.ok(maxActive <= 25 && maxActive >= 20, `max active ${maxActive}`);
    assert.ok(world.conversations.size <= 25, `world keeps ${world.conversations.size}`);
  });

  it('flags duplicates, out-of-order, malformed and drift at the configured rates', () => {
    const n = 20000;
    const { changes, gen } = record({ seed: 11, duplicateRate: 0.1, outOfOrderRate: 0.05, outOfOrderDelayMs: 300, malformedRate: 0.02, driftRate: 0.3 }, n);
    const count = (f: (c: ConversationChange) => boolean) => changes.filter(f).length;
    const near = (actual: number, expected: number, what: string) =>
      assert.ok(Math.abs(actual - expected) <= 5 * Math.sqrt(expected) + 1, `${what}: ${actual}, expected about ${expected}`);
    near(count((c) => !!c.delivery?.duplicate), n * 0.1, 'duplicates');
    near(count((c) => !!c.delivery?.delayMs), n * 0.05, 'out of order');
    near(count((c) => !!c.delivery?.malformed), n * 0.02, 'malformed');
    assert.ok(changes.every((c) => !c.delivery?.delayMs || (c.delivery.delayMs >= 150 && c.delivery.delayMs <= 300)));
    const stats = gen.stats();
    assert.equal(stats.duplicates, count((c) => !!c.delivery?.duplicate));
    // Drift is per conversation: a drifting one carries the unknown field on every change.
    const starts = changes.filter((c) => c.kind === 'start');
    near(starts.filter((c) => c.conversation.drift).length, starts.length * 0.3, 'drifting conversations');
    const drifting = new Set(starts.filter((c) => c.conversation.drift).map((c) => c.conversation.id));
    for (const c of changes) {
      assert.equal(!!c.conversation.drift, drifting.has(c.conversation.id));
      if (c.conversation.drift) {
        const score = (c.conversation.drift.ai_sentiment as { score: number }).score;
        assert.ok(score >= -1 && score <= 1);
      }
    }
    // Clean traffic carries no delivery flags at all.
    assert.ok(record({ seed: 11 }, 2000).changes.every((c) => c.delivery === undefined && c.conversation.drift === undefined));
  });

  it('makes zombies: ended in the world, but no end change is ever published', () => {
    const { changes, gen, world } = record({ seed: 5, maxConcurrent: 10 }, 50);
    const victim = gen.activeIds()[0];
    assert.equal(gen.zombie(victim), victim);
    assert.equal(world.get(victim)!.state, 'ended');
    assert.ok(world.get(victim)!.endTime);
    const before = changes.length;
    gen.generate(500);
    gen.finish();
    assert.ok(changes.slice(before).every((c) => c.conversation.id !== victim), 'the zombie never changes again');
    assert.equal(gen.zombie('no-such-id'), undefined);

    const z = record({ seed: 6, zombieRate: 0.25 }, 3000);
    z.gen.finish();
    const stats = z.gen.stats();
    assert.ok(stats.zombies > 0);
    assert.equal(stats.ended + stats.zombies, stats.started);
    const ended = new Set(z.changes.filter((c) => c.kind === 'end').map((c) => c.conversation.id));
    const zombies = [...z.world.conversations.values()].filter((c) => c.state === 'ended' && !ended.has(c.id));
    assert.equal(zombies.length, stats.zombies);
  });

  it('roughly honours the target rate in timer mode, and stops its timer', async () => {
    const world = new ConversationWorld();
    let n = 0;
    world.on('change', () => n++);
    const gen = new TrafficGenerator(world, { seed: 2, ratePerSecond: 2000, timeFactor: 0.0005, maxConcurrent: 500 });
    const t0 = performance.now();
    gen.start();
    await new Promise((r) => setTimeout(r, 600));
    await gen.stop();
    const elapsed = performance.now() - t0;
    const rate = (n / elapsed) * 1000;
    assert.ok(rate > 1400 && rate < 2400, `rate ${Math.round(rate)}/s`);
    const after = n;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(n, after, 'no changes after stop');
    await gen.stop({ finish: true });
    assert.equal(gen.stats().active, 0);
  });

  it('startTraffic (CLI, demo) starts about `rate` conversations per second', async () => {
    const world = new ConversationWorld();
    const gen = startTraffic({ world }, { rate: 50, timeFactor: 0.001, seed: 4 });
    assert.ok(gen.running);
    await new Promise((r) => setTimeout(r, 500));
    const early = gen.stats().started;
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = gen.stats().started - early;
    await gen.stop();
    assert.ok(perSecond >= 30 && perSecond <= 75, `${perSecond} conversations in the last second`);
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => new TrafficGenerator(new ConversationWorld(), { ratePerSecond: 0 }), /ratePerSecond/);
    assert.throws(() => new TrafficGenerator(new ConversationWorld(), { mediaWeights: { voice: 0, chat: 0, email: 0, sms: 0 } }), /mediaWeights/);
  });
});
