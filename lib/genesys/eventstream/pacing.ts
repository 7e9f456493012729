// When the next poll may go out. One object per poller combines the three inputs guide 002 names:
// exponential backoff after 429/5xx (capped, 60 s by default), the server's Retry-After (never
// retried earlier: that only earns another 429), and proactive slowing when the rate-limit
// headers say few requests remain in the window, so the limit is not hit in the first place.
// Not the shared ReconnectPolicy (lib/genesys/reconnect.ts): its full jitter may return ~0 ms,
// and a poller that was just told 429 must wait at least the exponential step.
import type { ApiResponse } from '../types';

export type RateLimit = NonNullable<ApiResponse['rateLimit']>;

export interface PacingOptions {
  /** First backoff step (ms). Default 1000 (the guide's 2^n seconds, starting at 2 s after the doubling). */
  initialMs?: number;
  /** Cap of an exponential step (ms). Default 60 000 (guide 002). */
  maxMs?: number;
  /** Longest Retry-After honoured (ms); longer values are clamped so a bogus header cannot park the poller. Default 600 000. */
  maxRetryAfterMs?: number;
  /** Fraction of a step shaved off at random (0..1) so several pollers do not retry in lockstep. Default 0.1. */
  jitter?: number;
  /** Slow down when remaining <= max(lowWaterMin, allowed × lowWaterFraction). Defaults 0.1 and 2. */
  lowWaterFraction?: number;
  lowWaterMin?: number;
  /** Window assumed when the headers carry no reset time (ms). Default 60 000 (Genesys: per minute). */
  defaultWindowMs?: number;
  random?: () => number;
}

export class PollPacer {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly o: Required<Omit<PacingOptions, 'initialMs' | 'maxMs'>>;
  private failures = 0;

  constructor(opts: PacingOptions = {}) {
    this.initialMs = opts.initialMs && opts.initialMs > 0 ? opts.initialMs : 1000;
    this.maxMs = Math.max(this.initialMs, opts.maxMs && opts.maxMs > 0 ? opts.maxMs : 60_000);
    this.o = {
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 600_000,
      jitter: Math.min(1, Math.max(0, opts.jitter ?? 0.1)),
      lowWaterFraction: opts.lowWaterFraction ?? 0.1,
      lowWaterMin: opts.lowWaterMin ?? 2,
      defaultWindowMs: opts.defaultWindowMs ?? 60_000,
      random: opts.random ?? Math.random,
    };
  }

  /** Consecutive failed polls since the last success. */
  get attempts(): number { return this.failures; }

  /** Delay after a failed poll (429, 5xx, network): initial × 2^n capped at maxMs, but never below Retry-After. */
  backoff(retryAfterMs?: number): number {
    const step = Math.min(this.maxMs, this.initialMs * Math.pow(2, Math.min(this.failures, 40)));
    this.failures++;
    const jittered = Math.round(step * (1 - this.o.jitter * this.o.random()));
    const floor = retryAfterMs && retryAfterMs > 0 ? Math.min(retryAfterMs, this.o.maxRetryAfterMs) : 0;
    return Math.max(jittered, floor);
  }

  /** A poll succeeded: the next failure starts from initialMs again. */
  reset(): void { this.failures = 0; }

  /**
   * Delay to put before the next request so the remaining budget lasts until the window resets.
   * 0 while plenty remains; resetMs / (remaining + 1) once remaining is low; the full reset at 0.
   */
  pace(rl: RateLimit | undefined): number {
    if (!rl || rl.remaining === undefined || !Number.isFinite(rl.remaining)) return 0;
    const lowWater = Math.max(this.o.lowWaterMin, rl.allowed ? Math.ceil(rl.allowed * this.o.lowWaterFraction) : 0);
    if (rl.remaining > lowWater) return 0;
    const resetMs = rl.resetSeconds !== undefined && rl.resetSeconds >= 0 ? rl.resetSeconds * 1000 : this.o.defaultWindowMs;
    return Math.min(this.maxMs, Math.round(resetMs / (Math.max(0, rl.remaining) + 1)));
  }
}
