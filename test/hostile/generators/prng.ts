// A seeded PRNG for the hostile-input suites, so a failing run can be repeated exactly:
//   FUZZ_SEED=12345 MOCHA_SPEC='test/hostile/**/*.test.ts' npx mocha
// Every suite prints its seed. mulberry32: tiny, fast, good enough to pick cases (not for crypto).

export const DEFAULT_SEED = 11015;

/** The run's seed: FUZZ_SEED (a number, or any text hashed to one), else the fixed default. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.FUZZ_SEED?.trim();
  if (!s) return DEFAULT_SEED;
  const n = Number(s);
  if (Number.isSafeInteger(n)) return n >>> 0;
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class Rng {
  private state: number;
  constructor(readonly seed: number) { this.state = seed >>> 0; }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number { return min + Math.floor(this.next() * (max - min + 1)); }
  bool(p = 0.5): boolean { return this.next() < p; }
  pick<T>(list: readonly T[]): T { return list[Math.floor(this.next() * list.length)]; }

  /** A key of `weights` chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) { r -= w; if (r < 0) return k; }
    return entries[entries.length - 1][0];
  }

  /** Bytes for payload mutations (never key material). */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }

  /** Text from an alphabet that includes multi-byte UTF-8 (valid) characters. */
  text(min = 0, max = 24): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_ .:/"\\\n\téüß漢字😀\u2028';
    let s = '';
    for (let i = this.int(min, max); i > 0; i--) s += this.pick([...alphabet]);
    return s;
  }

  /** A random UUID-shaped id (repeatable, unlike crypto.randomUUID). */
  uuid(): string {
    const h = this.bytes(16).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
