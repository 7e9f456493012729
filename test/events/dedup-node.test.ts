// dedup node through node-red-node-test-helper: outputs, settlement, two nodes sharing Redis,
// Redis stopped mid-stream, bad input and bad configuration.
import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisServer } from '../../harness/redis';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { redisUrl, uniqueName } from '../fixtures/env';
import { goldenCases } from './golden-cases';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
const dedupNode = require('../../nodes/dedup/dedup');

helper.init(require.resolve('node-red'));

const at = (n: any): any => ({ x: 100, y: 100, z: 'tab', ...n });
const dedup = (id: string, extra: Record<string, unknown> = {}, wires: string[][] = [['unique'], ['dup'], ['undecided']]): any =>
  at({ id, type: 'dedup', name: id, keyMode: 'auto', key: '', window: 300, store: 'memory', maxEntries: 1000, duplicates: 'output', settleCount: 1, wires, ...extra });
const flow = (...nodes: any[]): any[] => [
  { id: 'tab', type: 'tab', label: 'dedup' },
  ...nodes,
  at({ id: 'unique', type: 'helper' }),
  at({ id: 'dup', type: 'helper' }),
  at({ id: 'undecided', type: 'helper' }),
  at({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
  at({ id: 'caught', type: 'helper' }),
];
const collect = (id: string): any[] => {
  const got: any[] = [];
  helper.getNode(id).on('input', (m: any) => got.push(m));
  return got;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) { if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`); await sleep(10); }
}
/** The helper spies status on Node.prototype: pick this node's own last status. */
const fill = (node: any): string | undefined => node.status.getCalls().filter((c: any) => c.thisValue === node).pop()?.args[0]?.fill;
const ev = (id: string, seq = 1) => ({ event_id: id, sequence: seq, state: 'connected' });

describe('dedup node', function () {
  this.timeout(30_000);
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

  it('memory: unique on output 1, repeats on output 2 with msg.dedup; auto key works on raw events too', async () => {
    await helper.load(dedupNode, flow(dedup('d')));
    const unique = collect('unique');
    const dup = collect('dup');
    const d = helper.getNode('d');
    const push = goldenCases().find((c) => c.name === 'push-voice-connected')!;
    d.receive({ payload: ev('e1') });
    d.receive({ payload: ev('e1') });
    d.receive({ payload: ev('e1', 2) });
    d.receive({ payload: push.input, genesys: push.genesys });
    d.receive({ payload: JSON.parse(JSON.stringify(push.input)), genesys: push.genesys });
    await until('5 messages', () => unique.length + dup.length === 5);
    assert.deepEqual(unique.map((m) => m.dedup.key), ['e1:1', 'e1:2', 'evt-push-1:3']);
    assert.deepEqual(dup.map((m) => m.dedup), [{ key: 'e1:1', duplicate: true }, { key: 'evt-push-1:3', duplicate: true }]);
  });

  it('drop mode drops repeats of a stored event and settles their webhook delivery; output mode leaves that to the flow', async () => {
    await helper.load(dedupNode, flow(dedup('drop', { duplicates: 'drop' }), dedup('out', {}), dedup('twice', { duplicates: 'drop', settleCount: 2 })));
    const unique = collect('unique');
    const dup = collect('dup');
    const send = async (node: string, expected = 1) => {
      const first = deliveryTracker.open(1, 300);
      const again = deliveryTracker.open(1, 300, expected);
      helper.getNode(node).receive({ payload: ev(`${node}-1`), genesys: { source: 'webhook', receivedAt: '', deliveryId: first.ids[0] } });
      // The first copy reaches Kafka (settled 'stored' as kafka-out does): its claim becomes stored.
      await until('first copy', () => unique.some((m) => m.genesys.deliveryId === first.ids[0]));
      deliveryTracker.settle(first.ids[0], 'stored');
      assert.equal((await first.result).ok, true);
      helper.getNode(node).receive({ payload: ev(`${node}-1`), genesys: { source: 'webhook', receivedAt: '', deliveryId: again.ids[0] } });
      return again.result;
    };
    const dropped = await send('drop');
    assert.equal(dropped.ok, true);
    assert.equal(dropped.outcomes.duplicate, 1);
    const routed = await send('out');
    assert.equal(routed.ok, false, 'a duplicate on a wired second output is settled by whatever the flow does with it');
    const doubled = await send('twice', 2);
    assert.equal(doubled.ok, true);
    assert.equal(doubled.outcomes.duplicate, 2);
    await until('unique messages', () => unique.length === 3);
    assert.equal(dup.length, 1);
  });

  it('a duplicate sent to an unwired second output is settled like a dropped one', async () => {
    await helper.load(dedupNode, flow(dedup('d', {}, [['unique'], [], ['undecided']])));
    const unique = collect('unique');
    const a = deliveryTracker.open(1, 2000);
    const b = deliveryTracker.open(1, 2000);
    helper.getNode('d').receive({ payload: ev('x'), genesys: { source: 'webhook', receivedAt: '', deliveryId: a.ids[0] } });
    await until('first copy', () => unique.length === 1);
    deliveryTracker.settle(a.ids[0], 'stored');
    helper.getNode('d').receive({ payload: ev('x'), genesys: { source: 'webhook', receivedAt: '', deliveryId: b.ids[0] } });
    const r = await b.result;
    assert.equal(r.ok, true);
    assert.equal(r.outcomes.duplicate, 1);
  });

  it('property path and template keys', async () => {
    await helper.load(dedupNode, flow(
      dedup('p', { keyMode: 'path', key: 'payload.metadata.eventId' }),
      dedup('t', { keyMode: 'template', key: '{{payload.data.conversationId}}:{{payload.metadata.sequence}}' }),
    ));
    const unique = collect('unique');
    const dup = collect('dup');
    const m = (eventId: string, conv: string, seq: number) => ({ payload: { data: { conversationId: conv }, metadata: { eventId, sequence: seq } } });
    for (const n of ['p', 't']) { helper.getNode(n).receive(m('a', 'c1', 1)); helper.getNode(n).receive(m('a', 'c1', 2)); helper.getNode(n).receive(m('b', 'c1', 1)); }
    await until('6 messages', () => unique.length + dup.length === 6);
    assert.deepEqual(unique.map((x) => `${x.dedup.key}`).sort(), ['a', 'b', 'c1:1', 'c1:2']);
    assert.deepEqual(dup.map((x) => x.dedup.key).sort(), ['a', 'c1:1']);
  });

  it('bad input: no key goes to output 3 (reason validation), or to Catch when output 3 is unwired', async () => {
    await helper.load(dedupNode, flow(dedup('d'), dedup('nowire', {}, [['unique'], ['dup'], []])));
    const undecided = collect('undecided');
    const caught = collect('caught');
    const unique = collect('unique');
    for (const payload of ['text', 42, null, undefined, [1, 2], { no: 'id' }]) helper.getNode('d').receive({ payload });
    helper.getNode('nowire').receive({ payload: 'text' });
    await until('errors', () => undecided.length === 6 && caught.length === 1);
    for (const m of undecided) {
      assert.equal(m.error.reason, 'validation');
      assert.equal(m.error.code, 'no-key');
      assert.equal(m.error.message, 'dedup.errors.noKey');
    }
    assert.equal(caught[0].error.source.id, 'nowire');
    assert.equal(unique.length, 0);
  });

  it('bad configuration: an error at deploy, a red status, and messages go to output 3 instead of vanishing', async () => {
    await helper.load(dedupNode, flow(dedup('d', { keyMode: 'template', key: 'no placeholder' })));
    const d = helper.getNode('d');
    assert.ok(d.error.getCalls().some((c: any) => c.thisValue === d));
    assert.equal(fill(d), 'red');
    const undecided = collect('undecided');
    d.receive({ payload: ev('e') });
    await until('error output', () => undecided.length === 1);
    assert.equal(undecided[0].error.code, 'config');
  });

  it('Redis: 1,000 concurrent messages with one key into two dedup nodes -> exactly one passes; after the window one again', async () => {
    const prefix = `${uniqueName('dedup-node')}:`;
    prefixes.push(prefix);
    const cfg = { store: 'redis', redisUrl: redisUrl(), keyPrefix: prefix, window: 0.5 };
    await helper.load(dedupNode, flow(dedup('a', cfg), dedup('b', cfg)));
    const unique = collect('unique');
    const dup = collect('dup');
    const a = helper.getNode('a');
    const b = helper.getNode('b');
    await until('both connected', () => fill(a) === 'green' && fill(b) === 'green');
    const burst = () => { for (let i = 0; i < 1000; i++) (i % 2 ? a : b).receive({ payload: ev('conv-1:evt-1') }); };
    burst();
    await until('1000 answers', () => unique.length + dup.length === 1000);
    assert.equal(unique.length, 1);
    assert.equal(dup.length, 999);
    await sleep(600);
    burst();
    await until('2000 answers', () => unique.length + dup.length === 2000);
    assert.equal(unique.length, 2);
  });

  describe('Redis stopped mid-stream (own redis-server)', () => {
    let server: RedisServer;
    beforeEach(async () => { server = await new RedisServer().start(); });
    afterEach(async () => { await server.stop(); });

    it('fail-open passes events on the local window with a yellow status and a warning; fail-closed routes to output 3; both recover', async () => {
      const base = { store: 'redis', redisUrl: server.url, keyPrefix: 'outage:', commandTimeout: 300 };
      await helper.load(dedupNode, flow(dedup('open', { ...base, failMode: 'open' }), dedup('closed', { ...base, failMode: 'closed' })));
      const unique = collect('unique');
      const dup = collect('dup');
      const undecided = collect('undecided');
      const open = helper.getNode('open');
      const closed = helper.getNode('closed');
      await until('connected', () => fill(open) === 'green' && fill(closed) === 'green');
      let i = 0;
      const stream = setInterval(() => { i++; open.receive({ payload: ev(`o${i}`) }); closed.receive({ payload: ev(`c${i}`) }); }, 5);
      try {
        await sleep(100);
        await server.stop('SIGKILL');
        await until('open node degraded', () => fill(open) === 'yellow');
        assert.equal(fill(closed), 'red');
        assert.ok(open.warn.getCalls().some((c: any) => c.thisValue === open), 'a warning is logged');
        await sleep(200);
        open.receive({ payload: ev('o-repeat') });
        open.receive({ payload: ev('o-repeat') });
        await until('transport errors', () => undecided.some((m) => m.error.reason === 'transport'));
        await server.start();
        await until('recovered', () => fill(open) === 'green' && fill(closed) === 'green');
        await sleep(100);
      } finally {
        clearInterval(stream);
      }
      await until('all answered', () => unique.length + dup.length + undecided.length === 2 * i + 2);
      // Nothing lost: every fail-open message passed (the repeat is a duplicate); fail-closed ones passed or went to output 3.
      assert.equal(unique.filter((m) => m.dedup.key.startsWith('o')).length, i + 1);
      assert.ok(unique.some((m) => m.dedup.degraded), 'some passed on the local window');
      assert.deepEqual(dup.map((m) => m.dedup.key), ['o-repeat:1']);
      const closedErrors = undecided.filter((m) => m.error.source.id === 'closed');
      assert.ok(closedErrors.length > 0);
      assert.ok(closedErrors.every((m) => m.error.reason === 'transport' && m.error.code === 'redis-unavailable'));
      assert.equal(unique.filter((m) => m.dedup.key.startsWith('c')).length + closedErrors.length, i);
      // Back on Redis: a new key is claimed there.
      open.receive({ payload: ev('after') });
      await until('after', () => unique.some((m) => m.dedup.key === 'after:1' && !m.dedup.degraded));
    });

    it('fail-closed, event batches: undecided events leave on output 3 (transport) apart from events without a key (validation), or reach Catch', async () => {
      const base = { store: 'redis', redisUrl: server.url, keyPrefix: 'outage-b:', commandTimeout: 300, failMode: 'closed' };
      await helper.load(dedupNode, flow(dedup('wired', base), dedup('unwired', base, [['unique'], ['dup']])));
      const unique = collect('unique');
      const undecided = collect('undecided');
      const caught = collect('caught');
      const wired = helper.getNode('wired');
      const unwired = helper.getNode('unwired');
      await until('connected', () => fill(wired) === 'green' && fill(unwired) === 'green');
      const batch = (tag: string) => ({
        payload: [ev(`${tag}1`), { no: 'key here' }, ev(`${tag}2`)], keys: ['k1', undefined, 'k2'],
        genesys: { batch: true, source: 'webhook', receivedAt: new Date().toISOString() },
      });
      wired.receive(batch('up'));
      await until('passed while Redis is up', () => unique.length === 1);
      assert.deepEqual(unique[0].payload.map((e: any) => e.event_id), ['up1', 'up2']);
      assert.deepEqual(undecided.map((m) => [m.error.code, m.payload.length]), [['no-key', 1]]);
      undecided.length = 0;

      await server.stop('SIGKILL');
      await until('red', () => fill(wired) === 'red');
      wired.receive(batch('w'));
      await until('two messages on output 3', () => undecided.length === 2);
      const byCode = Object.fromEntries(undecided.map((m) => [m.error.code, m]));
      assert.equal(byCode['redis-unavailable'].error.reason, 'transport');
      assert.deepEqual(byCode['redis-unavailable'].payload.map((e: any) => e.event_id), ['w1', 'w2']);
      assert.deepEqual(byCode['redis-unavailable'].keys, ['k1', 'k2'], 'keys narrowed with the events');
      assert.equal(byCode['no-key'].error.reason, 'validation');
      assert.deepEqual(byCode['no-key'].payload, [{ no: 'key here' }]);

      unwired.receive(batch('u'));
      await until('both reported to Catch', () => caught.length === 2);
      const [transport, validation] = [...caught].sort((a, b) => b.payload.length - a.payload.length);
      assert.deepEqual(transport.payload.map((e: any) => e.event_id), ['u1', 'u2']);
      assert.match(transport.error.message, /redis/i);
      assert.deepEqual(validation.payload, [{ no: 'key here' }]);
      assert.doesNotMatch(validation.error.message, /redis/i);
      assert.equal(unique.length, 1, 'nothing passed undecided');
    });
  });
});
