// The Redis operations on dedup claims. The value is the claim's state: 'p' pending, anything else
// stored ('1', which is also what claims looked like before they had states). The store sends every
// claim and every promote of one event-loop round as one script call (tick-batch.ts), so a busy
// pipeline costs one round trip per round, not two per event:
//   CLAIM_MANY    per key: the value there, or claim it (SET PX) when there is none
//   PROMOTE_MANY  per key: stored, keeping what is left of its window (a key that is gone gets a new one)
//   RELEASE       compare-and-delete of a pending claim (only on failures, so rare)
// Scripts are atomic and work on every Redis version with Lua (2.6+). Multi-key scripts need every
// key on one server: fine for a single Redis or a replicated pair, not for Redis Cluster.
import type { Redis } from 'ioredis';

export const PENDING = 'p';
export const STORED = '1';

// KEYS the keys; ARGV[1] window ms, ARGV[i + 1] the state to claim KEYS[i] with -> per key '' when
// claimed, else the value there ('' rather than nil: a nil would end the reply array).
const CLAIM_MANY_LUA = `local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v then out[i] = v else
    redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
    out[i] = ''
  end
end
return out`;
// KEYS the keys; ARGV[1] window ms.
const PROMOTE_MANY_LUA = `for _, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl <= 0 then ttl = tonumber(ARGV[1]) end
  redis.call('SET', key, '${STORED}', 'PX', ttl)
end
return #KEYS`;
// KEYS[1] key. A claim stored meanwhile (by any instance) stays.
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == '${PENDING}' then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The scripts as ioredis commands (defineCommand: EVALSHA, EVAL once per connection). */
interface ClaimScripts {
  genesysDedupClaimMany(numKeys: number, ...args: (string | number)[]): Promise<string[]>;
  genesysDedupPromoteMany(numKeys: number, ...args: (string | number)[]): Promise<number>;
  genesysDedupRelease(key: string): Promise<number>;
}

export class RedisClaims {
  /** Script calls made (claims, promotes): tests and benchmarks read how well rounds batch. */
  readonly calls = { claim: 0, promote: 0 };
  private readonly redis: Redis & ClaimScripts;

  constructor(redis: Redis) {
    this.redis = redis as Redis & ClaimScripts;
    // No numberOfKeys on the many-key scripts: the caller passes the key count first.
    this.redis.defineCommand('genesysDedupClaimMany', { lua: CLAIM_MANY_LUA });
    this.redis.defineCommand('genesysDedupPromoteMany', { lua: PROMOTE_MANY_LUA });
    this.redis.defineCommand('genesysDedupRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  }

  /** Claims each key in its state unless it exists: per key null when claimed, else the value there. */
  async claimMany(claims: readonly (readonly [key: string, state: string])[], windowMs: number): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    this.calls.claim++;
    const keys = claims.map((c) => c[0]);
    const reply = await this.redis.genesysDedupClaimMany(keys.length, ...keys, windowMs, ...claims.map((c) => c[1]));
    return reply.map((v) => (v === '' ? null : v));
  }

  /** Makes each key's claim stored, keeping its remaining window; creates it (new window) when it is gone. */
  async promoteMany(keys: readonly string[], windowMs: number): Promise<void> {
    if (keys.length === 0) return;
    this.calls.promote++;
    await this.redis.genesysDedupPromoteMany(keys.length, ...keys, windowMs);
  }

  /** Deletes key's claim if it is still pending. */
  async release(key: string): Promise<void> {
    await this.redis.genesysDedupRelease(key);
  }
}
