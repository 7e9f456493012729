// Traffic generator: drives sim.world with realistic conversation lifecycles (voice, chat, email,
// sms) so every delivery path has something to deliver. Each conversation walks
//   queued → alerting → connected ⇄ held → (transfer to a queue or agent) → wrapup → ended
// (plus abandons and ring-no-answer) with wait/talk/wrap-up times scaled by timeFactor.
//
// Time is virtual: each change occupies one slot of 1000/rate ms and due transitions are ordered on
// that clock, so a seed yields the same sequence whether changes are produced synchronously
// (generate, finish) or paced by a 10 ms timer (start, runFor). Only timestamps come from the wall clock.
//
//   const t = new TrafficGenerator(sim.world, { seed: 7, ratePerSecond: 500, timeFactor: 0.001 });
//   t.start(); ...; await t.stop({ finish: true });   // or t.generate(1000); t.finish();
import type { MediaType } from '../lib/genesys/shapes';
import type { ConversationWorld, DeliveryFlags, SimConversation } from './world';
import { DueHeap, personName, queueName, Rng } from './traffic-random';
import { ALERT_S, HOLD_S, MAX_TRANSFERS, TALK, WAIT, WRAP, meanLifetimeSeconds, resolveTrafficOptions, type Named, type ResolvedTrafficOptions, type TrafficOptions, type TrafficStats } from './traffic-options';

export type { Named, TrafficOptions, TrafficStats } from './traffic-options';

interface Meta { media: MediaType; drifted: boolean }

export class TrafficGenerator {
  readonly queues: Named[];
  readonly agents: Named[];
  private readonly rng: Rng;
  private readonly o: ResolvedTrafficOptions;
  private readonly media: { type: MediaType; cum: number }[] = [];
  private readonly heap = new DueHeap();
  private readonly active = new Map<string, Meta>();
  private readonly slotMs: number;
  private vt = 0;
  private finishing = false;
  private timer: NodeJS.Timeout | null = null;
  private wallStart = 0;
  private target = Infinity;
  private onTarget: (() => void) | null = null;
  private isoMs = -1;
  private iso = '';
  private readonly s: TrafficStats = { changes: 0, started: 0, ended: 0, zombies: 0, active: 0, duplicates: 0, outOfOrder: 0, malformed: 0, drifted: 0, lagMs: 0 };

  constructor(private readonly world: ConversationWorld, opts: TrafficOptions = {}) {
    this.rng = new Rng(opts.seed ?? 1);
    this.o = resolveTrafficOptions(opts);
    this.slotMs = 1000 / this.o.ratePerSecond;
    this.queues = Array.isArray(opts.queues) ? opts.queues.slice()
      : Array.from({ length: Math.max(1, opts.queues ?? 5) }, (_, i) => ({ id: this.rng.uuid(), name: queueName(i) }));
    this.agents = Array.isArray(opts.agents) ? opts.agents.slice()
      : Array.from({ length: Math.max(1, opts.agents ?? 20) }, () => ({ id: this.rng.uuid(), name: personName(this.rng) }));
    const w = { voice: 50, chat: 25, sms: 15, email: 10, ...opts.mediaWeights };
    let cum = 0;
    for (const type of ['voice', 'chat', 'email', 'sms'] as MediaType[]) {
      if (!(w[type] > 0)) continue;
      cum += w[type];
      this.media.push({ type, cum });
    }
    if (!this.media.length) throw new Error('mediaWeights: no media type has a positive weight');
  }

  get running(): boolean { return this.timer !== null; }

  stats(): TrafficStats { return { ...this.s, active: this.active.size }; }

  /** Ids of conversations the generator is still driving. */
  activeIds(): string[] { return [...this.active.keys()]; }

  /** Produces up to n changes synchronously (as fast as possible); returns how many were produced. */
  generate(n: number): number {
    const before = this.s.changes;
    while (this.s.changes - before < n) {
      const t = this.nextTime();
      if (t === Infinity) break;
      this.emitAt(t);
    }
    return this.s.changes - before;
  }

  /** Starts no new conversations and runs every active one to its end, synchronously. */
  finish(): number {
    this.finishing = true;
    return this.generate(Infinity);
  }

  /** Paces changes at ratePerSecond with a batched timer until stop(). */
  start(): void {
    if (this.timer) return;
    this.finishing = false;
    this.wallStart = performance.now() - this.vt;
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
  }

  /** Stops the timer; with finish, also ends every active conversation (synchronously). */
  async stop(opts: { finish?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.target = Infinity;
    if (opts.finish) this.finish();
    const resolve = this.onTarget;
    this.onTarget = null;
    resolve?.();
  }

  /** Timer mode until n more changes were produced, then stops. */
  runFor(n: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.target = this.s.changes + n;
      this.onTarget = resolve;
      this.start();
    });
  }

  /**
   * Ends a conversation without publishing anything (the platform never told anyone: a zombie for
   * the janitor). Without an id, picks the oldest active one. Returns its id, or undefined.
   */
  zombie(id?: string): string | undefined {
    const victim = id ?? this.active.keys().next().value;
    if (!victim || !this.active.has(victim)) return undefined;
    this.world.silentUpdate(victim, { state: 'ended', endTime: this.now() });
    this.active.delete(victim);
    this.s.zombies++;
    return victim;
  }

  private tick(): void {
    const wall = performance.now() - this.wallStart;
    // Bounded batch: a slow consumer of world changes must not freeze the event loop.
    let budget = Math.max(64, Math.ceil(this.o.ratePerSecond * this.o.tickMs * 5 / 1000));
    let t = this.nextTime();
    while (budget-- > 0 && t <= wall && this.s.changes < this.target) {
      this.emitAt(t);
      t = this.nextTime();
    }
    this.s.lagMs = t === Infinity ? 0 : Math.max(0, wall - t);
    if (this.s.changes >= this.target) void this.stop();
  }

  /** Virtual time of the next change, Infinity when there is nothing left to do. */
  private nextTime(): number {
    this.dropStale();
    const due = this.heap.peekDue();
    if (due <= this.vt || this.canStart()) return this.vt;
    return due;
  }

  private canStart(): boolean {
    return !this.finishing && this.active.size < this.o.maxConcurrent;
  }

  private emitAt(t: number): void {
    this.vt = t;
    const due = this.heap.peekDue() <= t;
    // Both possible: start new ones less often as the center fills up, so instant timelines interleave.
    if (this.canStart() && (!due || this.rng.next() >= this.active.size / this.o.maxConcurrent)) this.startConversation();
    else this.advance(this.heap.pop() as string);
    this.vt = t + this.slotMs;
  }

  private dropStale(): void {
    // Zombies leave their heap entry behind; skip them lazily.
    while (this.heap.size && !this.active.has(this.heap.peekId() as string)) this.heap.pop();
  }

  private startConversation(): void {
    const rng = this.rng;
    const media = this.pickMedia();
    const queue = rng.pick(this.queues);
    const direction = media === 'chat' || rng.chance(0.85) ? 'inbound' : 'outbound';
    const drifted = rng.chance(this.o.driftRate);
    const id = rng.uuid();
    const customer = personName(rng);
    const conv: Omit<SimConversation, 'seq' | 'transfers' | 'state'> = {
      id, mediaType: media, direction, queueId: queue.id, queueName: queue.name,
      customerAddress: address(media, customer, rng), startTime: this.now(),
    };
    if (drifted) { conv.drift = this.driftFields(); this.s.drifted++; }
    this.active.set(id, { media, drifted });
    this.s.started++;
    this.publish(() => this.world.start(conv, this.deliveryFlags()));
    this.schedule(id, WAIT[media]);
  }

  private advance(id: string): void {
    const c = this.world.get(id);
    const meta = this.active.get(id);
    if (!c || !meta) { this.active.delete(id); return; }
    const rng = this.rng;
    const m = meta.media;
    const patch: Partial<SimConversation> = {};
    let next = 0;
    switch (c.state) {
      case 'queued':
        if (rng.chance(this.o.abandonRate)) return this.end(id, meta, { state: 'ended', endTime: this.now() });
        Object.assign(patch, { state: 'alerting', ...this.agentFields(c.agentId) });
        next = ALERT_S;
        break;
      case 'alerting':
        if (rng.chance(this.o.noAnswerRate)) { Object.assign(patch, { state: 'queued', agentId: undefined, agentName: undefined }); next = WAIT[m] / 2; break; }
        Object.assign(patch, { state: 'connected' }, c.connectedTime ? {} : { connectedTime: this.now() });
        next = TALK[m];
        break;
      case 'connected':
        if (m === 'voice' && rng.chance(this.o.holdRate)) { patch.state = 'held'; next = HOLD_S; break; }
        if (c.transfers < MAX_TRANSFERS && rng.chance(this.o.transferRate)) {
          patch.transfers = c.transfers + 1;
          if (rng.chance(0.5) && this.queues.length > 1) {
            const q = this.other(this.queues, c.queueId);
            Object.assign(patch, { state: 'queued', queueId: q.id, queueName: q.name, agentId: undefined, agentName: undefined });
            next = WAIT[m];
          } else {
            Object.assign(patch, { state: 'alerting', ...this.agentFields(c.agentId) });
            next = ALERT_S;
          }
          break;
        }
        Object.assign(patch, { state: 'wrapup', wrapupStartTime: this.now() });
        next = WRAP[m];
        break;
      case 'held':
        patch.state = 'connected';
        next = TALK[m] / 2;
        break;
      case 'wrapup':
        return this.end(id, meta, { state: 'ended', endTime: this.now() });
      default:
        this.active.delete(id);
        return;
    }
    if (meta.drifted) patch.drift = this.driftFields();
    this.publish(() => this.world.update(id, patch, this.deliveryFlags()));
    this.schedule(id, next);
  }

  private end(id: string, meta: Meta, patch: Partial<SimConversation>): void {
    this.active.delete(id);
    if (this.rng.chance(this.o.zombieRate)) {
      // Its slot stays empty: generate(n) still counts n published changes.
      this.world.silentUpdate(id, patch);
      this.s.zombies++;
      return;
    }
    if (meta.drifted) patch.drift = this.driftFields();
    this.s.ended++;
    this.publish(() => this.world.update(id, patch, this.deliveryFlags()));
    if (!this.o.retainEnded) this.world.conversations.delete(id);
  }

  private publish(fn: () => void): void {
    this.s.changes++;
    fn();
  }

  private schedule(id: string, meanSeconds: number): void {
    this.heap.push(id, this.vt + this.rng.exp(meanSeconds * 1000 * this.o.timeFactor));
  }

  private deliveryFlags(): DeliveryFlags | undefined {
    const o = this.o;
    let f: DeliveryFlags | undefined;
    if (this.rng.chance(o.duplicateRate)) { f = { duplicate: true }; this.s.duplicates++; }
    if (this.rng.chance(o.outOfOrderRate)) {
      (f ??= {}).delayMs = Math.round(o.outOfOrderDelayMs * (0.5 + 0.5 * this.rng.next()));
      this.s.outOfOrder++;
    }
    if (this.rng.chance(o.malformedRate)) { (f ??= {}).malformed = true; this.s.malformed++; }
    return f;
  }

  private driftFields(): Record<string, unknown> {
    // Fields a future platform release might add; consumers must carry or ignore them, never choke.
    return { ai_sentiment: { score: Math.round((this.rng.next() * 2 - 1) * 100) / 100, model: 'v3' } };
  }

  private agentFields(current?: string): { agentId: string; agentName: string } {
    const a = current ? this.other(this.agents, current) : this.rng.pick(this.agents);
    return { agentId: a.id, agentName: a.name };
  }

  private other(items: Named[], notId: string): Named {
    if (items.length === 1) return items[0];
    const i = this.rng.int(items.length - 1);
    const skip = items.findIndex((x) => x.id === notId);
    return items[skip >= 0 && i >= skip ? i + 1 : i];
  }

  private pickMedia(): MediaType {
    const r = this.rng.next() * this.media[this.media.length - 1].cum;
    for (const m of this.media) if (r < m.cum) return m.type;
    return this.media[this.media.length - 1].type;
  }

  /** ISO timestamp, cached per millisecond (toISOString is the generator's main cost otherwise). */
  private now(): string {
    const ms = Date.now();
    if (ms !== this.isoMs) { this.isoMs = ms; this.iso = new Date(ms).toISOString(); }
    return this.iso;
  }
}

/**
 * For the simulator CLI and the demo: about `rate` new conversations per second (default 5) at a
 * watchable pace (timeFactor 0.05: a 4-minute call lasts 12 s). Returns the started generator.
 */
export function startTraffic(sim: { world: ConversationWorld }, opts: TrafficOptions & { rate?: number } = {}): TrafficGenerator {
  const { rate = 5, ...rest } = opts;
  const timeFactor = rest.timeFactor ?? 0.05;
  // Arrivals settle where departures are: maxConcurrent / lifetime; ~6 changes per conversation.
  const maxConcurrent = rest.maxConcurrent ?? Math.max(1, Math.ceil(rate * meanLifetimeSeconds(rest.mediaWeights) * timeFactor));
  const gen = new TrafficGenerator(sim.world, { ratePerSecond: Math.max(50, rate * 12), ...rest, timeFactor, maxConcurrent });
  gen.start();
  return gen;
}

function address(media: MediaType, name: string, rng: Rng): string {
  switch (media) {
    case 'voice': return `tel:+1555${rng.digits(7)}`;
    case 'sms': return `+1555${rng.digits(7)}`;
    case 'email': return `${name.toLowerCase().replace(/\s+/g, '.')}@example.com`;
    default: return name;
  }
}
