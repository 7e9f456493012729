// What every dedup store answers for one key.

export type ClaimOutcome = 'unique' | 'duplicate' | 'error';

export interface ClaimResult {
  outcome: ClaimOutcome;
  /** True when the shared store was unreachable and the local window decided (fail-open). */
  degraded?: boolean;
  /** Why the shared store could not answer (degraded or error outcomes). */
  error?: Error;
}

export interface DedupStore {
  readonly kind: 'memory' | 'redis';
  /** First sight of key within the window -> unique (and the key is now taken); else duplicate. */
  claim(key: string): Promise<ClaimResult>;
  close(): Promise<void>;
}

export const UNIQUE: ClaimResult = Object.freeze({ outcome: 'unique' });
export const DUPLICATE: ClaimResult = Object.freeze({ outcome: 'duplicate' });
