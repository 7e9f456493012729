// Redis dedup store against a real Redis: shared window across instances, outages, timeouts.
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { RedisDedupStore, type RedisHealth } from '../../lib/events/dedup';
import { RedisServer } from '../../harness/redis';
import { redisUrl, uniqueName } from '../fixtures/env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('dedup: Redis store', function () {
  this.timeout(20_000);
  const stores: RedisDedupStore[] = [];
  const open = (opts: Partial<ConstructorParameters<typeof RedisDedupStore>[0]> & { keyPrefix: string }): RedisDedupStore => {
    const s = new RedisDedupStore({ url: redisUrl(), windowMs: 60_000, failMode: 'open', reconnectMaxDelayMs: 200, ...opts });
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) {
      if (s.health === 'ready') await s.clear().catch(() => undefined);
      await s.close();
    }
  });

  it('1,000 concurrent claims of one key from two instances: exactly one is unique; after the window one again', async () => {
    const prefix = `${uniqueName('dedup')}:`;
    const a = open({ keyPrefix: prefix, windowMs: 400 });
    const b = open({ keyPrefix: prefix, windowMs: 400 });
    await Promise.all([a.ready(), b.ready()]);
    const round = async () => {
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).claim('conv-1:evt-1')));
      return results.filter((r) => r.outcome === 'unique').length;
    };
    assert.equal(await round(), 1);
    assert.equal(await round(), 0);
    assert.equal(await a.redis.pttl(`${prefix}conv-1:evt-1`) > 0, true, 'the key carries the window as TTL');
    await sleep(500);
    assert.equal(await round(), 1);
  });

  it('keys live under the prefix and clear() removes them', async () => {
    const prefix = `${uniqueName('dedup')}:`;
    const s = open({ keyPrefix: prefix });
    await s.ready();
    for (let i = 0; i < 50; i++) await s.claim(`k${i}`);
    assert.equal((await s.redis.keys(`${prefix}*`)).length, 50);
    assert.equal(await s.clear(), 50);
    assert.equal((await s.redis.keys(`${prefix}*`)).length, 0);
  });

  describe('Redis stopped mid-stream (own redis-server)', () => {
    let server: RedisServer;
    beforeEach(async () => {
      assert.ok(RedisServer.available(), 'redis-server is needed for the outage tests');
      server = await new RedisServer().start();
    });
    afterEach(async () => { await server?.stop(); });

    it('fail-open: passes on the local window meanwhile, no crash, and writes its claims back when Redis returns', async () => {
      const prefix = `${uniqueName('dedup')}:`;
      const a = open({ url: server.url, keyPrefix: prefix, failMode: 'open' });
      const healths: RedisHealth[] = [];
      a.on('health', (h) => healths.push(h));
      await a.ready();
      assert.equal((await a.claim('before')).outcome, 'unique');

      // Stream while Redis goes away: every claim resolves, none throws.
      const streaming = (async () => {
        const out = [];
        for (let i = 0; i < 200; i++) { out.push(await a.claim(`stream-${i}`)); await sleep(2); }
        return out;
      })();
      await sleep(50);
      await server.stop('SIGKILL');
      const results = await streaming;
      assert.ok(results.every((r) => r.outcome === 'unique'), 'fail-open lets every first sight through');
      assert.ok(results.some((r) => r.degraded), 'some claims were decided locally');
      await until('health down', () => a.health === 'down');

      const during = await a.claim('during-outage');
      assert.equal(during.outcome, 'unique');
      assert.equal(during.degraded, true);
      assert.ok(during.error instanceof Error);
      const again = await a.claim('during-outage');
      assert.equal(again.outcome, 'duplicate', 'the local window catches repeats meanwhile');
      assert.equal((await a.claim('before')).outcome, 'duplicate', 'own earlier claims are remembered locally');

      // Listen first: ioredis may reconnect while start() is still polling the port.
      const wroteBack = new Promise<number>((resolve) => a.once('writeback', resolve));
      await server.start();
      await until('health ready', () => a.health === 'ready');
      assert.ok((await wroteBack) >= 1);
      assert.deepEqual(healths.slice(-2), ['down', 'ready']);
      // Another instance on the shared Redis now sees the key claimed during the outage.
      const b = open({ url: server.url, keyPrefix: prefix });
      await b.ready();
      assert.equal((await b.claim('during-outage')).outcome, 'duplicate');
      assert.equal((await b.claim('after-outage')).outcome, 'unique');
      assert.equal((await a.claim('after-outage')).outcome, 'duplicate', 'back on the shared window');
    });

    it('fail-closed: answers error while Redis is down (never blocks), then recovers by itself', async () => {
      const prefix = `${uniqueName('dedup')}:`;
      const s = open({ url: server.url, keyPrefix: prefix, failMode: 'closed' });
      await s.ready();
      assert.equal((await s.claim('k1')).outcome, 'unique');
      await server.stop();
      await until('health down', () => s.health === 'down');
      const t = Date.now();
      const r = await s.claim('k2');
      assert.equal(r.outcome, 'error');
      assert.match(r.error!.message, /Redis unreachable/);
      assert.ok(Date.now() - t < 100, 'answers at once while Redis is known down');
      assert.equal((await s.claim('k1')).outcome, 'duplicate', 'a known duplicate is still a duplicate');
      await server.start();
      await until('health ready', () => s.health === 'ready');
      assert.equal((await s.claim('k2')).outcome, 'unique');
    });

    it('Redis down at startup: claims do not hang, and the store connects once Redis is there', async () => {
      await server.stop();
      const s = open({ url: server.url, keyPrefix: `${uniqueName('dedup')}:`, failMode: 'closed', commandTimeoutMs: 300 });
      const t = Date.now();
      const r = await s.claim('x');
      assert.equal(r.outcome, 'error');
      assert.ok(Date.now() - t < 1500, `claim took ${Date.now() - t} ms`);
      await server.start();
      await s.ready(8000);
      assert.equal((await s.claim('x')).outcome, 'unique');
    });
  });

  it('a Redis that accepts but never answers: the command timeout bounds every claim, the socket timeout marks it down', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => { sockets.add(sock); sock.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const s = open({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'never:', failMode: 'open', commandTimeoutMs: 200, connectTimeoutMs: 500 });
      const t = Date.now();
      const r = await s.claim('k');
      assert.ok(Date.now() - t < 1500, `claim took ${Date.now() - t} ms`);
      assert.equal(r.outcome, 'unique');
      assert.equal(r.degraded, true);
      // The socket timeout drops the silent connection: from then on claims answer at once.
      await until('health down', () => s.health === 'down', 4000);
      const t2 = Date.now();
      assert.equal((await s.claim('k2')).degraded, true);
      assert.ok(Date.now() - t2 < 100, `claim took ${Date.now() - t2} ms once Redis was known down`);
      await s.close();
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
