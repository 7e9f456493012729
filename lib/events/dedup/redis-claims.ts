// The three Redis operations on one claim, each one atomic round trip. The value is the claim's
// state: 'p' pending, anything else stored ('1', which is also what claims looked like before they
// had states). Native commands where the server has them (they cost about as much as the old
// SET NX; a Lua script costs ~40 % more on the server), small Lua scripts otherwise:
//   claim    Redis >= 7: SET key <state> NX PX <window> GET      else: the CLAIM script
//            (a claim that needs no state back, on Redis < 7: SET key 1 NX PX <window>)
//   promote  Redis >= 6: SET key 1 KEEPTTL XX, then SET NX PX <window> if the key was gone
//            else: the PROMOTE script
//   release  the RELEASE script (compare-and-delete; only on failures, so rare)
import type { Redis } from 'ioredis';

export const PENDING = 'p';
export const STORED = '1';

// KEYS[1] key; ARGV[1] state to claim with, ARGV[2] window ms -> nil when claimed, else the value there.
const CLAIM_LUA = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
// KEYS[1] key; ARGV[1] window ms. Stored, keeping what is left of the window (a key that is gone gets a new one).
const PROMOTE_LUA = `local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = tonumber(ARGV[1]) end
redis.call('SET', KEYS[1], '${STORED}', 'PX', ttl)
return 1`;
// KEYS[1] key. Compare-and-delete: a claim stored meanwhile (by any instance) stays.
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == '${PENDING}' then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The scripts as ioredis commands (defineCommand: EVALSHA, EVAL once per connection, auto-pipelined). */
interface ClaimScripts {
  genesysDedupClaim(key: string, state: string, windowMs: number): Promise<string | null>;
  genesysDedupPromote(key: string, windowMs: number): Promise<number>;
  genesysDedupRelease(key: string): Promise<number>;
}

export class RedisClaims {
  /** Major version of the server, once known (0 until the first INFO answered: scripts meanwhile). */
  serverMajor = 0;
  private readonly redis: Redis & ClaimScripts;

  constructor(redis: Redis) {
    this.redis = redis as Redis & ClaimScripts;
    this.redis.defineCommand('genesysDedupClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    this.redis.defineCommand('genesysDedupPromote', { numberOfKeys: 1, lua: PROMOTE_LUA });
    this.redis.defineCommand('genesysDedupRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  }

  /** Reads the server's version (call on every 'ready': a failover may change the server). */
  async detect(): Promise<void> {
    try {
      const info = await this.redis.info('server');
      const m = /^redis_version:(\d+)\./m.exec(info);
      this.serverMajor = m ? Number(m[1]) : 0;
    } catch {
      this.serverMajor = 0; // INFO not allowed (ACL): the scripts work everywhere
    }
  }

  /**
   * Claims key in state unless it exists: null when claimed, else the value there. needState false
   * (a copy that waits for no ack: any claim makes it a duplicate) allows plain SET NX on old servers.
   */
  async claim(key: string, state: string, windowMs: number, needState = true): Promise<string | null> {
    if (this.serverMajor >= 7) {
      try {
        return await this.redis.set(key, state, 'PX', windowMs, 'NX', 'GET');
      } catch (err) {
        if (!isSyntaxError(err)) throw err;
        this.serverMajor = 0; // a Redis-compatible server that reports 7 but lacks NX GET
      }
    }
    if (!needState) return (await this.redis.set(key, state, 'PX', windowMs, 'NX')) === 'OK' ? null : STORED;
    return this.redis.genesysDedupClaim(key, state, windowMs);
  }

  /** Makes key's claim stored, keeping its remaining window; creates it (new window) when it is gone. */
  async promote(key: string, windowMs: number): Promise<void> {
    if (this.serverMajor >= 6) {
      if ((await this.redis.set(key, STORED, 'KEEPTTL', 'XX')) === 'OK') return;
      // Gone (released by the instance whose copy failed, or expired): the event is safe, so claim it.
      // Should another instance have claimed it pending in between, its claim stays: a retry passes.
      await this.redis.set(key, STORED, 'PX', windowMs, 'NX');
      return;
    }
    await this.redis.genesysDedupPromote(key, windowMs);
  }

  /** Deletes key's claim if it is still pending. */
  async release(key: string): Promise<void> {
    await this.redis.genesysDedupRelease(key);
  }
}

function isSyntaxError(err: unknown): boolean {
  return /syntax error/i.test(String((err as Error)?.message ?? ''));
}
