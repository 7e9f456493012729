// dedup: one answer per event key within a window, in process (memory) or shared (Redis).
// Claims are pending until the event is safe, then stored (see README.md next to this file).
import { MemoryDedupStore } from './memory-store';
import { RedisDedupStore, type FailMode } from './redis-store';
import type { DedupStore } from './types';

export { compileKey, parsePath, type KeyFn, type KeyMode } from './key';
export { MemoryDedupStore } from './memory-store';
export { RedisDedupStore, type FailMode, type RedisHealth, type RedisDedupOptions } from './redis-store';
export { DUPLICATE, DUPLICATE_PENDING, UNIQUE } from './types';
export type { ClaimOptions, ClaimOutcome, ClaimResult, ClaimState, DedupStore } from './types';

export const DEFAULT_WINDOW_SECONDS = 300;
export const DEFAULT_MAX_ENTRIES = 100_000;
export const DEFAULT_KEY_PREFIX = 'genesys:dedup:';

export interface DedupStoreConfig {
  store: 'memory' | 'redis';
  windowSeconds: number;
  maxEntries: number;
  redisUrl?: string;
  redisPassword?: string;
  keyPrefix?: string;
  failMode?: FailMode;
  commandTimeoutMs?: number;
}

export function createDedupStore(cfg: DedupStoreConfig): DedupStore {
  const windowMs = Math.round(cfg.windowSeconds * 1000);
  if (!(windowMs >= 1)) throw new Error(`window must be a positive number of seconds, got ${cfg.windowSeconds}`);
  const maxEntries = cfg.maxEntries >= 1 ? cfg.maxEntries : DEFAULT_MAX_ENTRIES;
  if (cfg.store === 'memory') return new MemoryDedupStore({ windowMs, maxEntries });
  if (!cfg.redisUrl) throw new Error('Redis store needs a Redis URL');
  return new RedisDedupStore({
    url: cfg.redisUrl, password: cfg.redisPassword, keyPrefix: cfg.keyPrefix ?? DEFAULT_KEY_PREFIX, windowMs,
    failMode: cfg.failMode ?? 'open', commandTimeoutMs: cfg.commandTimeoutMs, localMaxEntries: maxEntries,
  });
}
