// Reconnect delays for every Genesys WebSocket (notification channels, realtime analytics):
// exponential growth with "full jitter" (AWS architecture blog) and a cap, so a fleet of
// Node-RED instances that lost the platform at the same moment does not reconnect in lockstep.
// Defaults follow the Genesys SDK notification handlers (start ~2 s, double, cap 90 s).
//
// Usage:
//   const policy = new ReconnectPolicy({ initialMs: 1000, maxMs: 90_000 });
//   socket.on('close', () => { timer = setTimeout(connect, policy.next()); });
//   socket.on('open',  () => policy.reset());   // or reset after the first real message
//
// A small class rather than an npm backoff library: the common ones (exponential-backoff,
// p-retry) wrap a promise-returning function, which does not fit an event-driven socket loop.

export interface ReconnectOptions {
  /** Ceiling of the first delay (ms). Default 1000. */
  initialMs?: number;
  /** Cap of any delay (ms). Default 90 000 (the Genesys SDKs' cap). */
  maxMs?: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Smallest delay returned (ms), so a flapping server is never hammered at 0 ms. Default 0. */
  minMs?: number;
  /** 'full' (default): uniform in [minMs, ceiling]; 'none': the ceiling itself (deterministic). */
  jitter?: 'full' | 'none';
  /** Source of randomness in [0, 1); tests inject a fixed one. Default Math.random. */
  random?: () => number;
}

export class ReconnectPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly minMs: number;
  private readonly jitter: 'full' | 'none';
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: ReconnectOptions = {}) {
    this.initialMs = positive(opts.initialMs, 1000);
    this.maxMs = Math.max(positive(opts.maxMs, 90_000), this.initialMs);
    this.factor = opts.factor !== undefined && opts.factor >= 1 ? opts.factor : 2;
    this.minMs = Math.min(Math.max(0, opts.minMs ?? 0), this.maxMs);
    this.jitter = opts.jitter ?? 'full';
    this.random = opts.random ?? Math.random;
  }

  /** Failed attempts since the last reset (0 before the first next()). */
  get attempts(): number {
    return this.attempt;
  }

  /** The upper bound the next call to next() draws from, without consuming an attempt. */
  ceiling(): number {
    // Exponent clamped so very long outages never overflow to Infinity/NaN.
    const exp = Math.min(this.attempt, 64);
    return Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, exp));
  }

  /** Delay (ms) to wait before the next reconnect attempt; each call counts one attempt. */
  next(): number {
    const ceiling = this.ceiling();
    this.attempt++;
    if (this.jitter === 'none') return Math.max(this.minMs, Math.round(ceiling));
    const span = Math.max(0, ceiling - this.minMs);
    return Math.round(this.minMs + this.random() * span);
  }

  /** Call once a connection is healthy again: the next failure starts from initialMs. */
  reset(): void {
    this.attempt = 0;
  }
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}
