// How the dedup node sorts the events of one event batch (lib/events/batch.ts) by their claims:
// the same rules as for one event at a time (nodes/dedup), applied in order, so that a later copy
// inside the same batch is a plain duplicate of the earlier one.
import type { ClaimResult } from './types';

export interface BatchSort {
  /** Indexes of events that go on (first sight, or a repeat whose first copy is in another delivery still in flight). */
  unique: number[];
  /** Indexes of duplicates to drop or send to the duplicates output. */
  duplicate: number[];
  /** Indexes of events whose claim failed (Redis down, fail-closed): worth retrying. */
  failed: number[];
  /** Indexes of events without a key: retrying cannot help. */
  noKey: number[];
  /** Keys whose pending claim this batch made (given back if its delivery fails). */
  owned: string[];
  /** Some claim was decided on the local window (Redis unreachable, fail-open). */
  degraded: boolean;
  /** The store's error behind failed. */
  error?: Error;
}

/**
 * keys[i] is event i's key (undefined: none); answers are the claims of the defined keys, in order.
 * delivery is the batch's delivery (undefined when its source waits for no acknowledgement);
 * pendingBy maps the keys of this node's pending claims to their delivery and gets the owned keys.
 */
export function sortBatch(keys: readonly (string | undefined)[], answers: readonly ClaimResult[], delivery: string | undefined, pendingBy: Map<string, string>): BatchSort {
  const out: BatchSort = { unique: [], duplicate: [], failed: [], noKey: [], owned: [], degraded: false };
  for (let i = 0, j = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === undefined) { out.noKey.push(i); continue; }
    const r = answers[j++];
    if (!r || r.outcome === 'error') { out.failed.push(i); out.error = r?.error; continue; }
    if (r.degraded) out.degraded = true;
    // A repeat whose first copy waits for its ack in another delivery passes (at-least-once): settling it
    // as a duplicate would acknowledge an event that a crash could still lose.
    const inFlight = r.outcome === 'duplicate' && r.existing === 'pending' && delivery !== undefined && pendingBy.get(key) !== delivery;
    if (r.outcome === 'duplicate' && !inFlight) { out.duplicate.push(i); continue; }
    out.unique.push(i);
    if (delivery !== undefined && !inFlight) { out.owned.push(key); pendingBy.set(key, delivery); }
  }
  return out;
}
