// Seeded randomness and cheap data structures for the traffic generator. Everything the generator
// decides comes from one Rng, so a seed reproduces the same conversations, ids and faults.

/** mulberry32: a tiny, fast 32-bit PRNG; plenty for simulated traffic (not for cryptography). */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Exponentially distributed duration with this mean: short waits are common, long ones rare. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** A v4-shaped UUID drawn from this generator (Genesys ids are UUIDs). */
  uuid(): string {
    const h = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    const a = h(this.next() * 4294967296);
    const b = h(this.next() * 4294967296);
    const c = h(this.next() * 4294967296);
    const d = h(this.next() * 4294967296);
    const variant = ((parseInt(c[0], 16) & 0x3) | 0x8).toString(16);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}

/** Min-heap of conversations keyed by the virtual time their next transition is due. */
export class DueHeap {
  private readonly due: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.ids.length;
  }

  peekId(): string | undefined {
    return this.ids[0];
  }

  peekDue(): number {
    return this.ids.length ? this.due[0] : Infinity;
  }

  push(id: string, due: number): void {
    let i = this.ids.length;
    this.ids.push(id);
    this.due.push(due);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.due[p] <= due) break;
      this.ids[i] = this.ids[p];
      this.due[i] = this.due[p];
      i = p;
    }
    this.ids[i] = id;
    this.due[i] = due;
  }

  pop(): string | undefined {
    const n = this.ids.length;
    if (!n) return undefined;
    const top = this.ids[0];
    const lastId = this.ids.pop() as string;
    const lastDue = this.due.pop() as number;
    if (n > 1) {
      let i = 0;
      const len = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        const r = l + 1;
        const c = r < len && this.due[r] < this.due[l] ? r : l;
        if (this.due[c] >= lastDue) break;
        this.ids[i] = this.ids[c];
        this.due[i] = this.due[c];
        i = c;
      }
      this.ids[i] = lastId;
      this.due[i] = lastDue;
    }
    return top;
  }
}

const QUEUE_NAMES = ['Sales', 'Support', 'Billing', 'Retention', 'Technical Support', 'Claims', 'Bookings', 'Returns', 'VIP', 'Collections', 'Onboarding', 'Escalations'];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kemi', 'Liam', 'Maya', 'Noah', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tariq', 'Uma', 'Victor', 'Wen', 'Yara', 'Zoe'];
const LAST = ['Adams', 'Berg', 'Costa', 'Dubois', 'Evans', 'Fischer', 'Garcia', 'Hansen', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Meyer', 'Nakamura', 'Okafor', 'Patel', 'Rossi', 'Silva', 'Tanaka', 'Weber'];

export function queueName(i: number): string {
  const base = QUEUE_NAMES[i % QUEUE_NAMES.length];
  return i < QUEUE_NAMES.length ? base : `${base} ${Math.floor(i / QUEUE_NAMES.length) + 1}`;
}

export function personName(rng: Rng): string {
  return `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
}
