// Pending and stored claims: the delivery tracker's completion hooks, and both stores' claim states
// (pending -> stored with promote, pending -> gone with release), across two instances on one Redis.
import * as assert from 'node:assert/strict';
import { MemoryDedupStore, RedisDedupStore, type DedupStore } from '../../lib/events/dedup';
import { DeliveryTracker } from '../../lib/ingest/delivery-tracker';
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

describe('delivery tracker: completion hooks', () => {
  it('calls every hook of a delivery once: ok when all settled, false on timeout or cancel', async () => {
    const t = new DeliveryTracker();
    const seen: string[] = [];
    const ok = t.open(3, 1000);
    for (const id of ok.ids) assert.equal(t.onDone(id, (r) => seen.push(`ok:${id}:${r}`)), true);
    const late = t.open(1, 30);
    t.onDone(late.ids[0], (r) => seen.push(`late:${r}`));
    const cancelled = t.open(2, 1000);
    t.onDone(cancelled.ids[1], (r) => seen.push(`cancel:${r}`));
    t.settle(ok.ids[0], 'stored');
    t.settle(ok.ids[1], 'duplicate');
    assert.equal(seen.length, 0, 'no hook before the delivery ends');
    t.settle(ok.ids[2], 'dead-lettered');
    assert.deepEqual(seen, ok.ids.map((id) => `ok:${id}:true`));
    t.cancel(cancelled.ids);
    assert.deepEqual(seen.slice(3), ['cancel:false']);
    assert.equal((await late.result).ok, false);
    assert.deepEqual(seen.slice(4), ['late:false']);
    // Ended, unknown or missing ids: false, and the hook is never called.
    assert.equal(t.onDone(ok.ids[0], () => seen.push('never')), false);
    assert.equal(t.onDone('nope.0', () => seen.push('never')), false);
    assert.equal(t.onDone(undefined, () => seen.push('never')), false);
    assert.equal(t.isOpen(ok.ids[0]), false);
    t.settle(ok.ids[0], 'stored'); // a late settlement of an ended delivery changes nothing
    assert.equal(seen.length, 5);
  });

  it('a throwing hook neither stops the others nor breaks settle()', async () => {
    const t = new DeliveryTracker();
    const d = t.open(1, 1000);
    let after = 0;
    const warned = new Promise((r) => process.once('warning', r));
    t.onDone(d.ids[0], () => { throw new Error('boom'); });
    t.onDone(d.ids[0], () => { after++; });
    assert.equal(t.isOpen(d.ids[0]), true);
    t.settle(d.ids[0], 'stored');
    assert.equal(after, 1);
    assert.equal((await d.result).ok, true);
    assert.match(String(((await warned) as Error).message), /boom/);
  });

  it('stays cheap: 50,000 single-event deliveries with one hook each settle in well under a second', () => {
    const t = new DeliveryTracker();
    let done = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 50_000; i++) {
      const { ids } = t.open(1, 10_000);
      t.onDone(ids[0], (ok) => { if (ok) done++; });
      t.settle(ids[0], 'stored');
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(done, 50_000);
    assert.equal(t.unsettled, 0);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  });
});

/**
 * The same checks on any store: states of one key through claim, promote and release. exact: a claim
 * that needs no state back (no deliveryId) still reports it (not on Redis < 7, where it is a plain SET NX).
 */
async function checkStates(s: DedupStore, exact = true): Promise<void> {
  // Pending claim: a repeat sees it as pending.
  assert.deepEqual(await s.claim('a', { pending: true }), { outcome: 'unique' });
  assert.equal((await s.claim('a', { pending: true })).existing, 'pending');
  const plain = await s.claim('a');
  assert.equal(plain.outcome, 'duplicate', 'a copy without an ack to wait for is a duplicate of the pending claim');
  if (exact) assert.equal(plain.existing, 'pending');
  // Release: gone, the sender's retry is unique again.
  assert.equal(await s.release('a'), true);
  assert.equal((await s.claim('a', { pending: true })).outcome, 'unique');
  // Promote: stored; a later release does not remove it.
  assert.equal(await s.promote('a'), true);
  const dup = await s.claim('a', { pending: true });
  assert.equal(dup.outcome, 'duplicate');
  assert.equal(dup.existing, 'stored');
  await s.release('a');
  assert.equal((await s.claim('a')).existing, 'stored', 'release only deletes pending claims');
  // Claims without a delivery are stored at once, as before.
  assert.equal((await s.claim('b')).outcome, 'unique');
  assert.equal((await s.claim('b', { pending: true })).existing, 'stored');
  // Promote of a key that is gone (released elsewhere, expired) stores it.
  await s.promote('c');
  assert.equal((await s.claim('c', { pending: true })).existing, 'stored');
}

describe('dedup: pending and stored claims, memory store', () => {
  it('claim pending, promote, release', async () => {
    await checkStates(new MemoryDedupStore({ windowMs: 60_000, maxEntries: 100 }));
  });

  it('promote keeps the window of the first sight; a released key starts a new one', async () => {
    const s = new MemoryDedupStore({ windowMs: 150, maxEntries: 100 });
    assert.equal(s.tryClaim('k', 'pending'), undefined);
    await sleep(100);
    s.promoteSync('k');
    assert.equal(s.tryClaim('k', 'pending'), 'stored');
    await sleep(80);
    assert.equal(s.tryClaim('k', 'pending'), undefined, 'the window ended 150 ms after the first sight');
    assert.equal(s.releaseSync('k'), true);
    assert.equal(s.releaseSync('k'), false);
  });
});

describe('dedup: pending and stored claims, Redis store', function () {
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

  it('claim pending, promote, release', async () => {
    const s = open({ keyPrefix: `${uniqueName('dedup-p')}:` });
    await s.ready();
    await checkStates(s, true);
  });

  it('the claims and promotes of one event-loop round go to Redis as one script call each', async () => {
    const prefix = `${uniqueName('dedup-p')}:`;
    const s = open({ keyPrefix: prefix });
    await s.ready();
    const before = { ...s.claims.calls };
    // 300 claims in one round, two of them repeats of a key claimed earlier in the same round.
    const keys = Array.from({ length: 298 }, (_, i) => `k${i}`).concat(['k0', 'k7']);
    const results = await Promise.all(keys.map((k) => s.claim(k, { pending: true })));
    assert.equal(s.claims.calls.claim - before.claim, 1, 'one script call for the round');
    assert.deepEqual(results.map((r) => r.outcome).filter((o) => o === 'duplicate').length, 2);
    assert.equal(results[298].existing, 'pending');
    await Promise.all(keys.slice(0, 298).map((k) => s.promote(k)));
    assert.equal(s.claims.calls.promote - before.promote, 1);
    assert.equal(await s.redis.get(`${prefix}k5`), '1');
    // More than a batch holds (500) in one round: split, every claim answered.
    const many = await Promise.all(Array.from({ length: 1200 }, (_, i) => s.claim(`m${i}`)));
    assert.equal(many.filter((r) => r.outcome === 'unique').length, 1200);
    assert.equal(s.claims.calls.claim - before.claim, 1 + 3);
  });

  it('two instances on one Redis: a pending claim is pending for both; release lets the other claim; promote is seen by both', async () => {
    const prefix = `${uniqueName('dedup-p')}:`;
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    await Promise.all([a.ready(), b.ready()]);
    assert.equal((await a.claim('E', { pending: true })).outcome, 'unique');
    assert.equal(await a.redis.get(`${prefix}E`), 'p');
    assert.equal((await b.claim('E', { pending: true })).existing, 'pending', 'instance B: the original is still in flight at A');
    assert.equal((await b.claim('E')).existing, 'pending');
    // A's delivery failed: the claim goes; B's retry claims it.
    await a.release('E');
    assert.equal(await a.redis.exists(`${prefix}E`), 0);
    assert.equal((await b.claim('E', { pending: true })).outcome, 'unique');
    // A release from A now must not delete B's claim once B stored the event.
    await b.promote('E');
    await a.release('E');
    assert.equal(await a.redis.get(`${prefix}E`), '1');
    const seen = await a.claim('E', { pending: true });
    assert.equal(seen.outcome, 'duplicate');
    assert.equal(seen.existing, 'stored');

    // A pending claim that becomes stored elsewhere: A's local view follows Redis.
    assert.equal((await a.claim('F', { pending: true })).outcome, 'unique');
    assert.equal((await b.claim('F', { pending: true })).existing, 'pending');
    await b.promote('F'); // B's copy reached Kafka first
    assert.equal((await a.claim('F', { pending: true })).existing, 'stored');
    assert.equal(a.local.state('F'), 'stored');
    // A's own failed copy does not remove it.
    await a.release('F');
    assert.equal(await a.redis.get(`${prefix}F`), '1');
  });

  it('promote keeps the key\'s remaining window; claims written before states ("1") count as stored', async () => {
    const prefix = `${uniqueName('dedup-p')}:`;
    const s = open({ keyPrefix: prefix, windowMs: 5000 });
    await s.ready();
    await s.claim('k', { pending: true });
    await s.redis.pexpire(`${prefix}k`, 1500);
    await s.promote('k');
    const ttl = await s.redis.pttl(`${prefix}k`);
    assert.ok(ttl > 0 && ttl <= 1500, `ttl ${ttl}`);
    assert.equal(await s.redis.get(`${prefix}k`), '1');
    await s.redis.set(`${prefix}old`, '1', 'PX', 5000);
    const old = await s.claim('old', { pending: true });
    assert.equal(old.existing, 'stored');
  });

  it('active-active: 1,000 concurrent claims from two instances, with and without deliveries, give exactly one unique', async () => {
    const prefix = `${uniqueName('dedup-p')}:`;
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    await Promise.all([a.ready(), b.ready()]);
    for (const pending of [false, true]) {
      const key = `conv-1:${pending}`;
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).claim(key, { pending })));
      assert.equal(results.filter((r) => r.outcome === 'unique').length, 1);
      assert.ok(results.filter((r) => r.outcome === 'duplicate').every((r) => r.existing === (pending ? 'pending' : 'stored')));
    }
  });

  describe('Redis stopped (own redis-server)', () => {
    let server: RedisServer;
    beforeEach(async () => { server = await new RedisServer().start(); });
    afterEach(async () => { await server.stop(); });

    it('promote and release during an outage update the local window, and a promoted claim is written back', async () => {
      const prefix = `${uniqueName('dedup-p')}:`;
      const a = open({ url: server.url, keyPrefix: prefix });
      await a.ready();
      assert.equal((await a.claim('stored-later', { pending: true })).outcome, 'unique');
      assert.equal((await a.claim('failed-later', { pending: true })).outcome, 'unique');
      await server.stop('SIGKILL');
      await until('down', () => a.health === 'down');
      // Fail-open: a pending claim on the local window while Redis is away.
      const during = await a.claim('during', { pending: true });
      assert.equal(during.outcome, 'unique');
      assert.equal(during.degraded, true);
      assert.equal((await a.claim('during', { pending: true })).existing, 'pending');
      assert.equal(await a.promote('stored-later'), false, 'only the local window knows');
      assert.equal(await a.release('failed-later'), false);
      assert.equal(await a.promote('during'), false);
      assert.equal(a.local.state('stored-later'), 'stored');
      assert.equal(a.local.state('failed-later'), undefined);

      // The restarted Redis lost its data (no persistence): the write-back restores what is stored.
      const wroteBack = new Promise<number>((resolve) => a.once('writeback', resolve));
      await server.start();
      await until('ready', () => a.health === 'ready');
      assert.equal(await wroteBack, 2);
      const b = open({ url: server.url, keyPrefix: prefix });
      await b.ready();
      assert.equal((await b.claim('stored-later', { pending: true })).existing, 'stored');
      assert.equal((await b.claim('during', { pending: true })).existing, 'stored');
      assert.equal((await b.claim('failed-later', { pending: true })).outcome, 'unique');
    });

    it('fail-closed: a pending duplicate is still known locally while Redis is down; new keys are errors', async () => {
      const s = open({ url: server.url, keyPrefix: `${uniqueName('dedup-p')}:`, failMode: 'closed' });
      await s.ready();
      await s.claim('mine', { pending: true });
      await server.stop();
      await until('down', () => s.health === 'down');
      assert.equal((await s.claim('mine', { pending: true })).existing, 'pending');
      assert.equal((await s.claim('new', { pending: true })).outcome, 'error');
    });
  });
});
