// What every dedup store answers for one key.
//
// A claim on a key is either 'stored' (the event is safe: in Kafka, the DLQ, or it came from a source
// that does not wait for acknowledgements) or 'pending' (the event's delivery is still in flight: a
// webhook or poll source will acknowledge it only once it is safe). A pending claim becomes stored
// with promote() or goes away with release(), so the sender's retry of a lost event is not taken
// for a duplicate.

export type ClaimOutcome = 'unique' | 'duplicate' | 'error';
export type ClaimState = 'pending' | 'stored';

export interface ClaimResult {
  outcome: ClaimOutcome;
  /** For a duplicate: the state of the claim that was there first. */
  existing?: ClaimState;
  /** True when the shared store was unreachable and the local window decided (fail-open). */
  degraded?: boolean;
  /** Why the shared store could not answer (degraded or error outcomes). */
  error?: Error;
}

export interface ClaimOptions {
  /** Claim as pending (the event's delivery is still in flight) instead of stored. */
  pending?: boolean;
}

export interface DedupStore {
  readonly kind: 'memory' | 'redis';
  /** First sight of key within the window -> unique (and the key is now taken); else duplicate. */
  claim(key: string, opts?: ClaimOptions): Promise<ClaimResult>;
  /** claim() for the keys of an event batch, answered together (same order). */
  claimMany(keys: readonly string[], opts?: ClaimOptions): Promise<ClaimResult[]>;
  /**
   * The event is safe: its claim becomes stored (kept window; created with a new window if it was
   * gone). Resolves false when only this instance's window could be updated (Redis unreachable).
   */
  promote(key: string): Promise<boolean>;
  /** promote() for many keys (an event batch that was stored). */
  promoteMany(keys: readonly string[]): Promise<boolean>;
  /**
   * The event was not stored: deletes its claim if that is still pending (a stored claim stays).
   * Resolves false when the shared store could not be told (its pending claim then expires).
   */
  release(key: string): Promise<boolean>;
  close(): Promise<void>;
}

export const UNIQUE: ClaimResult = Object.freeze({ outcome: 'unique' });
/** A duplicate of a stored claim (the only kind before claims had states). */
export const DUPLICATE: ClaimResult = Object.freeze({ outcome: 'duplicate', existing: 'stored' });
export const DUPLICATE_PENDING: ClaimResult = Object.freeze({ outcome: 'duplicate', existing: 'pending' });
