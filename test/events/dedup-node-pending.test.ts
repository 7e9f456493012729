// dedup node and sources that wait for acknowledgement (msg.genesys.deliveryId): a repeat is only
// settled as a duplicate once the first copy is stored; while that copy is in flight the repeat
// passes, and when its delivery fails the claim is given back for the sender's retry.
import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { redisUrl, uniqueName } from '../fixtures/env';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
const dedupNode = require('../../nodes/dedup/dedup');

helper.init(require.resolve('node-red'));

const at = (n: any): any => ({ x: 100, y: 100, z: 'tab', ...n });
const dedup = (id: string, extra: Record<string, unknown> = {}, wires: string[][] = [['unique'], ['dup'], ['undecided']]): any =>
  at({ id, type: 'dedup', name: id, keyMode: 'auto', key: '', window: 300, store: 'memory', maxEntries: 1000, duplicates: 'drop', settleCount: 1, wires, ...extra });
const flow = (...nodes: any[]): any[] => [
  { id: 'tab', type: 'tab', label: 'dedup' },
  ...nodes,
  at({ id: 'unique', type: 'helper' }),
  at({ id: 'dup', type: 'helper' }),
  at({ id: 'undecided', type: 'helper' }),
];
const collect = (id: string): any[] => {
  const got: any[] = [];
  helper.getNode(id).on('input', (m: any) => got.push(m));
  return got;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) { if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`); await sleep(5); }
}
const fill = (node: any): string | undefined => node.status.getCalls().filter((c: any) => c.thisValue === node).pop()?.args[0]?.fill;
const event = { event_id: 'E', sequence: 1, state: 'connected' };
/** One webhook copy of event E: its own delivery (as webhook-in opens one per request). */
const copy = (timeoutMs: number) => {
  const d = deliveryTracker.open(1, timeoutMs);
  return { id: d.ids[0], result: d.result, msg: { payload: { ...event }, genesys: { source: 'webhook', receivedAt: '', deliveryId: d.ids[0] } } };
};

describe('dedup node: claims of events whose sender waits for the ack', function () {
  this.timeout(20_000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  const prefixes: string[] = [];
  afterEach(async () => {
    await helper.unload();
    if (prefixes.length) {
      const r = new Redis(redisUrl());
      for (const p of prefixes.splice(0)) { const keys = await r.keys(`${p}*`); if (keys.length) await r.unlink(...keys); }
      r.disconnect();
    }
  });

  for (const store of ['memory', 'redis'] as const) {
    it(`${store}: a retry while the first copy is in flight passes; after that copy failed it owns the key; after one is stored repeats are settled as duplicates`, async () => {
      const prefix = `${uniqueName('dedup-pending')}:`;
      prefixes.push(prefix);
      await helper.load(dedupNode, flow(dedup('d', { store, redisUrl: redisUrl(), keyPrefix: prefix })));
      const d = helper.getNode('d');
      if (store === 'redis') await until('connected', () => fill(d) === 'green');
      const unique = collect('unique');

      // Kafka is down: the first copy sits in kafka-out (nothing settles it).
      const first = copy(200);
      d.receive(first.msg);
      await until('first copy', () => unique.length === 1);
      assert.deepEqual(unique[0].dedup, { key: 'E:1', duplicate: false });
      // The sender retries before its first request was answered: not a duplicate to acknowledge.
      const early = copy(200);
      d.receive(early.msg);
      await until('early retry', () => unique.length === 2);
      assert.deepEqual(unique[1].dedup, { key: 'E:1', duplicate: false, inFlight: true });
      // A copy that waits for no ack (an active-active listener) is still a duplicate of the pending claim.
      d.receive({ payload: { ...event }, genesys: { source: 'notification' } });
      await sleep(50);
      assert.equal(unique.length, 2);
      assert.equal((await first.result).ok, false, 'the first request gets 503');
      assert.equal((await early.result).ok, false, 'so does the early retry: it was not settled as a duplicate');

      // Both failed: the claim was given back, the next retry is processed normally.
      const retry = copy(2000);
      d.receive(retry.msg);
      await until('retry', () => unique.length === 3);
      assert.deepEqual(unique[2].dedup, { key: 'E:1', duplicate: false });
      deliveryTracker.settle(retry.id, 'stored'); // kafka-out got the broker's ack
      assert.equal((await retry.result).ok, true);

      // Stored: a later redelivery is dropped and settled at once.
      const late = copy(2000);
      d.receive(late.msg);
      const r = await late.result;
      assert.equal(r.ok, true);
      assert.equal(r.outcomes.duplicate, 1);
      assert.equal(unique.length, 3);
    });
  }

  it('Redis, two instances: B never acknowledges a retry as a duplicate while A holds the original unsettled', async () => {
    const prefix = `${uniqueName('dedup-pending')}:`;
    prefixes.push(prefix);
    const cfg = { store: 'redis', redisUrl: redisUrl(), keyPrefix: prefix, duplicates: 'output' };
    await helper.load(dedupNode, flow(dedup('a', cfg), dedup('b', cfg)));
    const a = helper.getNode('a');
    const b = helper.getNode('b');
    await until('connected', () => fill(a) === 'green' && fill(b) === 'green');
    const unique = collect('unique');
    const dup = collect('dup');

    const original = copy(300); // instance A: in kafka-out's memory, never settled (A crashes)
    a.receive(original.msg);
    await until('original', () => unique.length === 1);
    const retry = copy(3000); // the sender's retry lands on instance B
    b.receive(retry.msg);
    await until('retry passed at B', () => unique.length === 2);
    assert.equal(unique[1].dedup.inFlight, true);
    assert.equal(dup.length, 0, 'not sent to the duplicate output either');
    deliveryTracker.settle(retry.id, 'stored'); // B's copy reached Kafka: B acknowledges for a stored event
    assert.equal((await retry.result).ok, true);
    assert.equal((await original.result).ok, false);

    // B's success stored the key (A's failure did not remove it): further copies are duplicates anywhere.
    const r = new Redis(redisUrl());
    try {
      const deadline = Date.now() + 2000;
      while ((await r.get(`${prefix}E:1`)) !== '1' && Date.now() < deadline) await sleep(10);
      assert.equal(await r.get(`${prefix}E:1`), '1');
    } finally {
      r.disconnect();
    }
    const again = copy(3000);
    a.receive(again.msg);
    await until('duplicate output', () => dup.length === 1);
    assert.equal(dup[0].dedup.duplicate, true);
  });

  it('a message whose delivery already ended passes and leaves no claim behind', async () => {
    await helper.load(dedupNode, flow(dedup('d')));
    const d = helper.getNode('d');
    const unique = collect('unique');
    const stale = copy(10);
    assert.equal((await stale.result).ok, false);
    d.receive(stale.msg); // reached dedup after its request had been answered 503
    await until('stale copy', () => unique.length === 1);
    const retry = copy(2000);
    d.receive(retry.msg);
    await until('retry', () => unique.length === 2);
    assert.deepEqual(unique[1].dedup, { key: 'E:1', duplicate: false }, 'the retry owns the key');
    deliveryTracker.settle(retry.id, 'stored');
    await retry.result;
  });

  it('a delivery of several events: each claim is stored only once the whole delivery succeeded', async () => {
    await helper.load(dedupNode, flow(dedup('d')));
    const d = helper.getNode('d');
    const unique = collect('unique');
    const batch = deliveryTracker.open(2, 2000);
    d.receive({ payload: { event_id: 'X', sequence: 1 }, genesys: { source: 'webhook', receivedAt: '', deliveryId: batch.ids[0] } });
    d.receive({ payload: { event_id: 'Y', sequence: 1 }, genesys: { source: 'webhook', receivedAt: '', deliveryId: batch.ids[1] } });
    await until('both', () => unique.length === 2);
    deliveryTracker.settle(batch.ids[0], 'stored');
    const repeat = copy(2000);
    repeat.msg.payload = { event_id: 'X', sequence: 1 } as any;
    d.receive(repeat.msg);
    await until('repeat passes: Y is not stored yet, so neither is the request', () => unique.length === 3);
    assert.equal(unique[2].dedup.inFlight, true);
    deliveryTracker.settle(batch.ids[1], 'stored');
    assert.equal((await batch.result).ok, true);
    const after = copy(2000);
    after.msg.payload = { event_id: 'Y', sequence: 1 } as any;
    d.receive(after.msg);
    assert.equal((await after.result).outcomes.duplicate, 1);
    deliveryTracker.settle(repeat.id, 'stored');
  });

  it('a repeat inside the same delivery (one request or page carrying E twice) is dropped and settled as before', async () => {
    await helper.load(dedupNode, flow(dedup('d')));
    const d = helper.getNode('d');
    const unique = collect('unique');
    const page = deliveryTracker.open(2, 2000);
    for (const id of page.ids) d.receive({ payload: { ...event }, genesys: { source: 'eventstream', receivedAt: '', deliveryId: id } });
    await until('first copy', () => unique.length === 1);
    await sleep(30);
    assert.equal(unique.length, 1, 'the second copy was dropped');
    deliveryTracker.settle(unique[0], 'stored');
    const r = await page.result;
    assert.equal(r.ok, true, 'the page completes once the first copy is safe');
    assert.deepEqual(r.outcomes, { stored: 1, 'dead-lettered': 0, duplicate: 1 });
  });
});
