import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileCursorStore, MemoryCursorStore, type CursorStore } from '../../lib/genesys/eventstream/cursor-store';
import { EventStreamPoller, type EventStreamPollerOptions, type EventStreamPosition } from '../../lib/genesys/eventstream/poller';
import type { PollStatus } from '../../lib/genesys/eventstream/poll-loop';
import { interactionStream, PageRecorder, sleep, startConversations, startRig, waitFor, type PollRig } from './support';

describe('event stream poller', () => {
  let rig: PollRig;
  let dir: string;
  const pollers: EventStreamPoller[] = [];
  beforeEach(async () => { rig = await startRig(); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poller-')); });
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
    await rig.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  interface Run { poller: EventStreamPoller; rec: PageRecorder; statuses: PollStatus[]; errors: Error[]; warnings: string[] }
  const run = (o: Partial<EventStreamPollerOptions> & { streamId?: string }, store?: CursorStore<EventStreamPosition>): Run => {
    const rec = new PageRecorder();
    const poller = new EventStreamPoller({
      api: rig.api, store: store ?? new MemoryCursorStore(), onPage: rec.onPage, intervalMs: 100, errorRetryMs: 300,
      pacing: { initialMs: 50, maxMs: 200, jitter: 0 }, ...o,
    });
    const r: Run = { poller, rec, statuses: [], errors: [], warnings: [] };
    poller.on('status', (s: PollStatus) => r.statuses.push(s));
    poller.on('pollError', (e: Error) => r.errors.push(e));
    poller.on('warn', (w: string) => r.warnings.push(w));
    pollers.push(poller);
    poller.start();
    return r;
  };
  const gaps = (streamId: string): number[] => {
    const times = rig.streams.pollLog.filter((p) => p.streamId === streamId).map((p) => p.at);
    return times.slice(1).map((t, i) => t - times[i]);
  };

  it('drains pages while hasMore, emits events one by one with receivedAt and the conversation key, then keeps polling', async () => {
    const stream = interactionStream(rig);
    const ids = startConversations(rig.sim, 25);
    const r = run({ streamId: stream.subscription.id, pageSize: 10 });
    await waitFor(() => r.rec.events.length === 25, 3000, '25 events');
    assert.deepEqual(r.rec.pages.map((p) => p.count), [10, 10, 5]);
    assert.deepEqual(r.rec.events.map((e) => e.key), ids);
    for (const e of r.rec.events) {
      assert.ok(Date.parse(e.receivedAt) >= Date.parse((e.payload as { timestamp: string }).timestamp));
      assert.ok((e.payload as { timestamp?: string }).timestamp, 'the event keeps its own timestamp');
    }
    const later = startConversations(rig.sim, 3);
    await waitFor(() => r.rec.events.length === 28, 2000, 'events after the interval');
    assert.deepEqual(r.rec.events.slice(25).map((e) => e.key), later);
    assert.deepEqual(r.rec.ids(), rig.sim.ledger.byPath('eventstream').map((e) => e.eventId));
    assert.deepEqual(r.errors, []);
    const idleGaps = gaps(stream.subscription.id).slice(3);
    assert.ok(idleGaps.every((g) => g >= 90), `caught up: one poll per interval, saw ${idleGaps}`);
  });

  it('hands off duplicated and malformed events as they come: nothing dropped, dedup and the DLQ decide later', async () => {
    const stream = interactionStream(rig);
    const base = { mediaType: 'sms' as const, direction: 'inbound' as const, queueId: 'q', queueName: 'Q', customerAddress: '+1', startTime: new Date().toISOString() };
    rig.sim.world.start({ id: 'twice', ...base }, { duplicate: true });
    rig.sim.world.start({ id: 'broken', ...base }, { malformed: true });
    const r = run({ streamId: stream.subscription.id });
    await waitFor(() => r.rec.events.length === 3, 2000, '3 events');
    assert.deepEqual(r.rec.events.map((e) => e.key), ['twice', 'twice', undefined]);
    assert.equal((r.rec.events[2].payload as { id: string }).id, rig.sim.ledger.byPath('eventstream')[1].eventId);
    assert.deepEqual(r.errors, []);
  });

  it('429 storm: exponential backoff within bounds, capped, Retry-After honoured, nothing lost', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 3);
    for (let i = 0; i < 5; i++) rig.streams.pollOverrides.push({ status: 429, body: { code: 'too.many.requests.retry.after', status: 429 }, headers: { 'retry-after': '0' } });
    const r = run({ streamId: stream.subscription.id });
    await waitFor(() => r.rec.events.length === 3, 5000, 'events after the storm');
    const g = gaps(stream.subscription.id).slice(0, 5);
    const expected = [50, 100, 200, 200, 200];
    g.forEach((gap, i) => assert.ok(gap >= expected[i] - 5 && gap < expected[i] + 200, `gap ${i}: ${gap} ms, expected ~${expected[i]} (all: ${g})`));
    const backoffs = r.statuses.filter((s) => s.state === 'backoff');
    assert.deepEqual(backoffs.map((s) => [s.status, s.delayMs]), expected.map((d) => [429, d]));
    assert.deepEqual(r.errors, [], '429 is not an error to report, only a backoff');

    rig.streams.pollOverrides.push({ status: 429, body: {}, headers: { 'retry-after': '1' } });
    const before = rig.streams.pollLog.length;
    startConversations(rig.sim, 1);
    await waitFor(() => r.rec.events.length === 4, 4000, 'event after Retry-After');
    const log = rig.streams.pollLog.slice(before - 1);
    const limited = log.findIndex((p) => p.status === 429);
    assert.ok(log[limited + 1].at - log[limited].at >= 990, `Retry-After 1 s honoured, retried after ${log[limited + 1].at - log[limited].at} ms`);
  });

  it('slows down before the limit when X-RateLimit-Remaining runs low', async () => {
    const stream = interactionStream(rig);
    rig.streams.rateLimit = { limit: 8, windowMs: 2000 };
    startConversations(rig.sim, 7);
    const t0 = Date.now();
    const r = run({ streamId: stream.subscription.id, pageSize: 1, pacing: { initialMs: 50, maxMs: 2000, jitter: 0, lowWaterFraction: 0.5 } });
    await waitFor(() => r.rec.events.length === 7, 4000, 'drained');
    const g = gaps(stream.subscription.id);
    // remaining 7,6,5: full speed; 4 → reset/5, 3 → reset/4, ... (reset: 1-2 s left in the window)
    assert.ok(g.slice(0, 3).every((x) => x < 150), `fast while plenty remains: ${g}`);
    assert.ok(g.slice(3, 6).every((x) => x >= 195), `slower once remaining <= 4: ${g}`);
    assert.ok(r.statuses.some((s) => s.state === 'paced'));
    assert.equal(rig.streams.pollLog.filter((p) => p.status === 429).length, 0, 'never hit the limit');
    assert.ok(Date.now() - t0 >= 800);
  });

  it('401 mid-run: the token is refreshed once and polling continues without a gap', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 3);
    const r = run({ streamId: stream.subscription.id });
    await waitFor(() => r.rec.events.length === 3, 2000, 'first events');
    const tokenCalls = rig.tokens.tokenRequests;
    rig.sim.revokeAllTokens();
    startConversations(rig.sim, 3);
    await waitFor(() => r.rec.events.length === 6, 2000, 'events after 401');
    assert.equal(rig.tokens.tokenRequests, tokenCalls + 1);
    assert.deepEqual(r.rec.ids(), stream.published);
    assert.deepEqual(r.errors, []);
  });

  it('5xx: backs off exponentially and recovers; timeouts too', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 2);
    for (let i = 0; i < 3; i++) rig.streams.pollOverrides.push({ status: 503, body: { message: 'unavailable' } });
    const r = run({ streamId: stream.subscription.id });
    await waitFor(() => r.rec.events.length === 2, 3000, 'events after 5xx');
    const g = gaps(stream.subscription.id).slice(0, 3);
    [50, 100, 200].forEach((d, i) => assert.ok(g[i] >= d - 5 && g[i] < d + 200, `gap ${i} ${g[i]} ~ ${d}`));
    assert.equal(r.warnings.length, 3);
    assert.deepEqual(r.errors, []);
  });

  it('other 4xx: error state and an error event, retried slowly, no tight loop', async () => {
    const r = run({ streamId: 'no-such-stream' });
    await sleep(1000);
    const requests = rig.streams.pollLog.filter((p) => p.streamId === 'no-such-stream').length;
    assert.ok(requests >= 2 && requests <= 5, `${requests} requests in 1 s with errorRetryMs 300`);
    assert.ok(r.errors.length >= 2);
    assert.equal((r.errors[0] as { status?: number }).status, 404);
    assert.match(r.errors[0].message, /404/);
    assert.equal(r.statuses.find((s) => s.state === 'error')?.status, 404);
  });

  it('bad poll responses (not JSON, missing fields, huge pages) are clear errors; nothing emitted from them, nothing lost', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 2);
    rig.streams.pollOverrides.push(
      { rawBody: '{"events": [ {"id": "x"' },
      { body: { events: 'nope', cursor: 'c' } },
      { body: { events: [] } },
      { body: { events: Array.from({ length: 5000 }, (_, i) => ({ id: `junk-${i}` })), cursor: 'c', hasMore: false } },
      { rawBody: '' },
    );
    const r = run({ streamId: stream.subscription.id, pageSize: 50 });
    await waitFor(() => r.rec.events.length === 2, 5000, 'real events after the bad pages');
    assert.deepEqual(r.errors.map((e) => (e as { code?: string }).code), Array(5).fill('bad.response'));
    assert.match(r.errors[0].message, /not JSON/);
    assert.match(r.errors[1].message, /no events array/);
    assert.match(r.errors[2].message, /no cursor/);
    assert.match(r.errors[3].message, /5000 events in one page, more than the 1000/);
    assert.match(r.errors[4].message, /not a JSON object/);
    assert.deepEqual(r.rec.ids(), stream.published);
  });

  it('restart resumes at the saved cursor (file store): no duplicates, no gap, against the ledger', async () => {
    const stream = interactionStream(rig);
    const file = path.join(dir, 'cursor.json');
    startConversations(rig.sim, 12);
    const a = run({ streamId: stream.subscription.id, pageSize: 5 }, new FileCursorStore(file));
    await waitFor(() => a.rec.events.length === 12, 3000, 'first run');
    await a.poller.stop();
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).streamId, stream.subscription.id);
    startConversations(rig.sim, 7); // while stopped
    const b = run({ streamId: stream.subscription.id, pageSize: 5 }, new FileCursorStore(file));
    await waitFor(() => b.rec.events.length === 7, 3000, 'second run');
    await sleep(250);
    const all = [...a.rec.ids(), ...b.rec.ids()];
    assert.equal(new Set(all).size, all.length, 'no duplicates');
    assert.deepEqual(all, rig.sim.ledger.byPath('eventstream').map((e) => e.eventId), 'no gap, in order');
  });

  it('at least once: a page not accepted downstream, or whose cursor was not saved, comes again; never skipped', async () => {
    const stream = interactionStream(rig);
    const file = path.join(dir, 'cursor.json');
    startConversations(rig.sim, 4);
    const rec = new PageRecorder();
    rec.fail = new Error('downstream refused');
    const failing = new FileCursorStore<EventStreamPosition>(file);
    let saves = 0;
    const store: CursorStore<EventStreamPosition> = { load: () => failing.load(), save: async (v) => { if (++saves > 1) throw new Error('disk full'); return failing.save(v); } };
    const r = run({ streamId: stream.subscription.id, pageSize: 2, onPage: rec.onPage }, store);
    await waitFor(() => r.statuses.filter((s) => s.state === 'backoff').length >= 2, 2000, 'backoff after refused page');
    assert.equal(rec.events.length, 0);
    rec.fail = null;
    await waitFor(() => rec.events.length === 4, 2000, 'page accepted');
    assert.equal(r.errors.filter((e) => /cannot save the cursor/.test(e.message)).length, 1, 'one error per failing streak');
    await r.poller.stop();
    // The crash case: the cursor on disk is older than what was handed off, so the restart replays.
    const again = run({ streamId: stream.subscription.id, pageSize: 2 }, new FileCursorStore(file));
    await waitFor(() => again.rec.events.length === 2, 2000, 'replay');
    await sleep(150);
    assert.deepEqual(rec.ids(), stream.published);
    assert.deepEqual(again.rec.ids(), stream.published.slice(2), 'the page after the last saved cursor comes again');
  });

  it('an unreadable cursor file is an error state, not a silent restart from the beginning', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 2);
    const file = path.join(dir, 'cursor.json');
    fs.writeFileSync(file, '{"version":1,"streamId":');
    const r = run({ streamId: stream.subscription.id }, new FileCursorStore(file));
    await waitFor(() => r.errors.length > 0, 2000, 'error');
    await sleep(100);
    assert.equal((r.errors[0] as { code?: string }).code, 'cursor.unreadable');
    assert.equal(r.statuses.at(-1)?.state, 'error');
    assert.equal(rig.streams.pollLog.length, 0, 'no poll without a known position');
    assert.equal(r.rec.events.length, 0);
  });

  it('410 cursor expired: an error by default; with resetExpiredCursor, restarts from the oldest retained event and says so', async () => {
    const stream = interactionStream(rig);
    rig.streams.retention = 2;
    startConversations(rig.sim, 1);
    const store = new MemoryCursorStore<EventStreamPosition>();
    const a = run({ streamId: stream.subscription.id }, store);
    await waitFor(() => a.rec.events.length === 1, 2000, 'first');
    await a.poller.stop();
    startConversations(rig.sim, 4);
    const b = run({ streamId: stream.subscription.id }, new MemoryCursorStore({ ...store.value! }));
    await waitFor(() => b.errors.length > 0, 2000, '410');
    assert.equal((b.errors[0] as { status?: number }).status, 410);
    assert.equal(b.rec.events.length, 0);
    await b.poller.stop();
    const c = run({ streamId: stream.subscription.id, resetExpiredCursor: true }, new MemoryCursorStore({ ...store.value! }));
    await waitFor(() => c.rec.events.length === 2, 2000, 'oldest retained');
    assert.equal((c.errors[0] as { code?: string }).code, 'cursor.expired');
    assert.match(c.errors[0].message, /lost/);
  });

  it('creates the subscription once and keeps its id in the store across restarts', async () => {
    const file = path.join(dir, 'cursor.json');
    const subscription = { name: 'auto', eventTypes: [{ entityType: 'interaction' as const, eventType: 'created' as const, filter: '{"direction":"inbound"}' }] };
    const a = run({ subscription }, new FileCursorStore(file));
    await waitFor(() => !!a.poller.stream, 2000, 'subscription');
    startConversations(rig.sim, 2, { direction: 'inbound' });
    startConversations(rig.sim, 1, { direction: 'outbound' });
    await waitFor(() => a.rec.events.length === 2, 2000, 'filtered events');
    await a.poller.stop();
    const b = run({ subscription }, new FileCursorStore(file));
    startConversations(rig.sim, 1, { direction: 'inbound' });
    await waitFor(() => b.rec.events.length === 1, 2000, 'after restart');
    assert.equal(rig.streams.streams.size, 1);
    assert.equal(b.poller.stream, a.poller.stream);
  });

  it('throughput: drains a 20,000-event backlog in pages of 1000', async () => {
    const stream = interactionStream(rig);
    rig.streams.retention = 20_000;
    for (let i = 0; i < 20_000; i++) {
      rig.streams.append(stream, { id: `e${i}`, entityType: 'interaction', eventType: 'updated', timestamp: new Date().toISOString(), entity: { id: `c${i % 500}`, status: 'connected' } });
    }
    const t0 = Date.now();
    const r = run({ streamId: stream.subscription.id, pageSize: 1000 });
    await waitFor(() => r.rec.events.length === 20_000, 20_000, '20k events');
    const ms = Date.now() - t0;
    console.log(`      [figure] event stream poller: 20000 events in ${ms} ms = ${Math.round(20_000 / (ms / 1000))} ev/s (pages of 1000, loopback simulator)`);
    assert.equal(new Set(r.rec.ids()).size, 20_000);
    assert.ok(ms < 10_000);
  });

  it('stop() ends a long backoff at once', async () => {
    rig.streams.pollOverrides.push({ status: 503, body: {} });
    const stream = interactionStream(rig);
    const r = run({ streamId: stream.subscription.id, pacing: { initialMs: 60_000, jitter: 0 } });
    await waitFor(() => r.statuses.some((s) => s.state === 'backoff'), 2000, 'backoff');
    const t = Date.now();
    await r.poller.stop();
    assert.ok(Date.now() - t < 100);
    assert.equal(r.statuses[r.statuses.length - 1].state, 'stopped');
  });
});
