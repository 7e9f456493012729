// Options, statistics and the realistic duration tables of the traffic generator (traffic.ts).
import type { MediaType } from '../lib/genesys/shapes';

export interface Named { id: string; name: string }

export interface TrafficOptions {
  /** Same seed, same options → same sequence of changes. Default 1. */
  seed?: number;
  /** Target changes per second in timer mode (also the virtual clock's pace). Default 50. */
  ratePerSecond?: number;
  /** Multiplies realistic durations (seconds to minutes); 0.001 turns a 4-minute call into 240 ms. Default 0.01. */
  timeFactor?: number;
  /** Number of queues to invent, or the queues themselves. Default 5. */
  queues?: number | Named[];
  /** Number of agents to invent, or the agents themselves. Default 20. */
  agents?: number | Named[];
  /** Conversations alive at once. Default 100. */
  maxConcurrent?: number;
  /** Relative weights per media type. Default voice 50, chat 25, sms 15, email 10. */
  mediaWeights?: Partial<Record<MediaType, number>>;
  /** Fraction of changes flagged for double delivery. Default 0. */
  duplicateRate?: number;
  /** Fraction of changes flagged to be held back (overtaken by later ones). Default 0. */
  outOfOrderRate?: number;
  /** Upper bound of the hold-back delay of out-of-order changes, ms. Default 200. */
  outOfOrderDelayMs?: number;
  /** Fraction of changes flagged to be delivered broken. Default 0. */
  malformedRate?: number;
  /** Fraction of conversations that carry unknown extra fields (schema drift). Default 0. */
  driftRate?: number;
  /** Fraction of conversations that end silently (zombies: no end event is ever published). Default 0. */
  zombieRate?: number;
  /** Probabilities of the lifecycle's branches (defaults are plausible contact-center figures). */
  abandonRate?: number;
  holdRate?: number;
  transferRate?: number;
  noAnswerRate?: number;
  /** Keep ended conversations in world.conversations (GET conversation, details query). Default true; benchmarks turn it off. */
  retainEnded?: boolean;
  /** Timer period in timer mode, ms. Default 10. */
  tickMs?: number;
}

export interface TrafficStats {
  changes: number; started: number; ended: number; zombies: number; active: number;
  duplicates: number; outOfOrder: number; malformed: number; drifted: number;
  /** How far the timer mode is behind the target rate, ms. */
  lagMs: number;
}

// Realistic means in seconds per media type, before timeFactor.
export const WAIT: Record<MediaType, number> = { voice: 30, chat: 20, email: 300, sms: 60 };
export const TALK: Record<MediaType, number> = { voice: 240, chat: 420, email: 240, sms: 300 };
export const WRAP: Record<MediaType, number> = { voice: 30, chat: 20, email: 60, sms: 20 };
export const ALERT_S = 6;
export const HOLD_S = 45;
export const MAX_TRANSFERS = 2;

export type ResolvedTrafficOptions = Required<Omit<TrafficOptions, 'queues' | 'agents' | 'mediaWeights' | 'seed'>>;

export function resolveTrafficOptions(opts: TrafficOptions): ResolvedTrafficOptions {
  const o: ResolvedTrafficOptions = {
    ratePerSecond: opts.ratePerSecond ?? 50, timeFactor: opts.timeFactor ?? 0.01, maxConcurrent: opts.maxConcurrent ?? 100,
    duplicateRate: opts.duplicateRate ?? 0, outOfOrderRate: opts.outOfOrderRate ?? 0, outOfOrderDelayMs: opts.outOfOrderDelayMs ?? 200,
    malformedRate: opts.malformedRate ?? 0, driftRate: opts.driftRate ?? 0, zombieRate: opts.zombieRate ?? 0,
    abandonRate: opts.abandonRate ?? 0.05, holdRate: opts.holdRate ?? 0.15, transferRate: opts.transferRate ?? 0.08,
    noAnswerRate: opts.noAnswerRate ?? 0.04, retainEnded: opts.retainEnded ?? true, tickMs: opts.tickMs ?? 10,
  };
  if (!(o.ratePerSecond > 0)) throw new Error('ratePerSecond must be > 0');
  return o;
}

/** Mean realistic lifetime of a conversation in seconds (before timeFactor) for these media weights. */
export function meanLifetimeSeconds(weights: Partial<Record<MediaType, number>> = { voice: 50, chat: 25, sms: 15, email: 10 }): number {
  let total = 0;
  let sum = 0;
  for (const [m, w] of Object.entries(weights) as [MediaType, number][]) {
    if (!(w > 0)) continue;
    total += w;
    sum += w * (WAIT[m] + ALERT_S + TALK[m] + WRAP[m]);
  }
  return total ? sum / total : 0;
}
