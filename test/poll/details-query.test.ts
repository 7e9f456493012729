import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileCursorStore, MemoryCursorStore, type CursorStore } from '../../lib/genesys/eventstream/cursor-store';
import { DetailsQueryPoller, type DetailsQueryPollerOptions, type DetailsQueryPosition } from '../../lib/genesys/eventstream/details-query';
import type { PollStatus } from '../../lib/genesys/eventstream/poll-loop';
import type { AnalyticsConversation } from '../../lib/genesys/shapes';
import type { ApiRequest, GenesysApi } from '../../lib/genesys/types';
import { PageRecorder, sleep, startConversations, startRig, waitFor, type PollRig } from './support';

describe('details-query poller (real platform mode)', () => {
  let rig: PollRig;
  let dir: string;
  const pollers: DetailsQueryPoller[] = [];
  beforeEach(async () => { rig = await startRig(); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'details-')); });
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
    await rig.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  interface Run { poller: DetailsQueryPoller; rec: PageRecorder; statuses: PollStatus[]; errors: Error[]; warnings: string[]; bodies: any[] }
  const run = (o: Partial<DetailsQueryPollerOptions> = {}, store?: CursorStore<DetailsQueryPosition>, api?: GenesysApi): Run => {
    const rec = new PageRecorder();
    const bodies: any[] = [];
    const base = api ?? rig.api;
    const spy: GenesysApi = { apiBase: base.apiBase, request: (req: ApiRequest) => { bodies.push(req.body); return base.request(req); } };
    const poller = new DetailsQueryPoller({
      api: spy, store: store ?? new MemoryCursorStore(), onPage: rec.onPage, intervalMs: 100, errorRetryMs: 300, settleMs: 0,
      pacing: { initialMs: 50, maxMs: 200, jitter: 0 }, ...o,
    });
    const r: Run = { poller, rec, statuses: [], errors: [], warnings: [], bodies };
    poller.on('status', (s: PollStatus) => r.statuses.push(s));
    poller.on('pollError', (e: Error) => r.errors.push(e));
    poller.on('warn', (w: string) => r.warnings.push(w));
    pollers.push(poller);
    poller.start();
    return r;
  };
  const endAll = (ids: string[]): void => {
    for (const id of ids) rig.sim.world.update(id, { state: 'ended', endTime: new Date().toISOString() });
  };
  const convs = (r: Run): AnalyticsConversation[] => r.rec.events.map((e) => e.payload as AnalyticsConversation);

  it('pages through an interval (asc by conversationStart), keyed by conversationId, each conversation once', async () => {
    const ids = startConversations(rig.sim, 230);
    const r = run({ pageSize: 100 });
    await waitFor(() => r.rec.events.length >= 230, 4000, '230 conversations');
    await sleep(300); // several more ticks: nothing changed, nothing emitted
    assert.equal(r.rec.events.length, 230);
    // Pages of 100, 100, then the rest (conversations started in the very millisecond the window closes come in the next sweep).
    assert.deepEqual(r.rec.pages.slice(0, 2).map((p) => [p.source, p.count]), [['details-query', 100], ['details-query', 100]]);
    assert.ok(r.rec.pages.every((p) => p.source === 'details-query' && p.count <= 100));
    assert.deepEqual(new Set(r.rec.events.map((e) => e.key)), new Set(ids));
    const first = r.bodies[0];
    assert.deepEqual([first.order, first.orderBy, first.paging], ['asc', 'conversationStart', { pageSize: 100, pageNumber: 1 }]);
    assert.match(first.interval, /^\d{4}-\d\d-\d\dT[^/]+Z\/\d{4}-\d\d-\d\dT[^/]+Z$/);
    assert.deepEqual(r.errors, []);
  });

  it('emits a conversation again only when it changed, and the window follows open conversations', async () => {
    const ids = startConversations(rig.sim, 20);
    const r = run({ pageSize: 50 });
    await waitFor(() => r.rec.events.length === 20, 3000, 'first sweep');
    for (const id of ids.slice(0, 5)) rig.sim.world.update(id, { state: 'connected', agentId: 'a1', agentName: 'Ann', connectedTime: new Date().toISOString() });
    await waitFor(() => r.rec.events.length === 25, 3000, 'changed ones');
    assert.deepEqual(r.rec.events.slice(20).map((e) => e.key), ids.slice(0, 5));
    const openStart = Math.min(...ids.map((id) => Date.parse(rig.sim.world.get(id)!.startTime)));
    assert.ok(r.poller.position <= openStart, 'open conversations hold the window back');
    endAll(ids);
    await waitFor(() => r.rec.events.length === 45, 3000, 'ended ones');
    assert.ok(convs(r).slice(25).every((c) => c.conversationEnd));
    await waitFor(() => r.poller.position > openStart, 2000, 'window moves on once all ended');
    await sleep(300);
    assert.equal(r.rec.events.length, 45, 'no repeats after the window moved on');
  });

  it('resumes from the saved position after a restart: what changed while stopped, nothing already emitted', async () => {
    const file = path.join(dir, 'details.json');
    const ids = startConversations(rig.sim, 30);
    const a = run({ pageSize: 25 }, new FileCursorStore(file));
    await waitFor(() => a.rec.events.length === 30, 3000, 'first run');
    await sleep(150);
    await a.poller.stop();
    endAll(ids.slice(0, 10));
    const more = startConversations(rig.sim, 4);
    const b = run({ pageSize: 25 }, new FileCursorStore(file));
    await waitFor(() => b.rec.events.length === 14, 3000, 'second run');
    await sleep(300);
    assert.deepEqual(new Set(b.rec.events.map((e) => e.key)), new Set([...ids.slice(0, 10), ...more]));
    assert.equal(b.rec.events.length, 14);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DetailsQueryPosition;
    assert.equal(saved.mode, 'details-query');
    assert.ok(Object.keys(saved.seen).length >= 24);
  });

  it('totalHits moving while paging: conversations arriving mid-sweep are emitted, none lost or repeated', async () => {
    startConversations(rig.sim, 15);
    let injected: string[] = [];
    const growing: GenesysApi = {
      apiBase: rig.api.apiBase,
      request: async (req: ApiRequest) => {
        const res = await rig.api.request(req);
        if (!injected.length && (req.body as any)?.paging?.pageNumber === 1) injected = startConversations(rig.sim, 12);
        return res;
      },
    };
    const r = run({ pageSize: 10 }, undefined, growing);
    await waitFor(() => r.rec.events.length >= 27, 3000, 'all 27');
    await sleep(300);
    assert.equal(r.rec.events.length, 27);
    assert.equal(new Set(r.rec.events.map((e) => e.key)).size, 27);
    assert.ok(injected.every((id) => r.rec.events.some((e) => e.key === id)));
  });

  it('bad answers are clear errors without a crash; a 400 from the API is an error state, not a tight loop', async () => {
    startConversations(rig.sim, 3);
    const answers: unknown[] = ['<html>gateway</html>', { conversations: {} }, { conversations: [{ conversationStart: 'x' }] }];
    const flaky: GenesysApi = {
      apiBase: rig.api.apiBase,
      request: async (req: ApiRequest): Promise<any> => (answers.length ? { status: 200, headers: {}, body: answers.shift() } : rig.api.request(req)),
    };
    const r = run({}, undefined, flaky);
    await waitFor(() => r.rec.events.length === 3, 3000, 'events after bad answers');
    assert.deepEqual(r.errors.map((e) => (e as { code?: string }).code), ['bad.response', 'bad.response', 'bad.response']);
    assert.match(r.errors[0].message, /not JSON/);
    assert.match(r.errors[1].message, /not an array/);
    assert.match(r.errors[2].message, /without conversationId/);

    const bad = run({ pageSize: 500 });
    await sleep(800);
    assert.equal((bad.errors[0] as { status?: number }).status, 400);
    assert.match(bad.errors[0].message, /pageSize/);
    assert.ok(bad.bodies.length >= 2 && bad.bodies.length <= 4, `${bad.bodies.length} requests in 800 ms`);
    assert.equal(bad.statuses.find((s) => s.state === 'error')?.status, 400);
  });

  it('walks a long backlog in slices and stops following a zombie conversation', async () => {
    const t0 = Date.now();
    const [zombie] = startConversations(rig.sim, 1, { startTime: new Date(t0 - 3 * 3600_000).toISOString() });
    const r = run({ initialLookbackMs: 4 * 3600_000, sliceMs: 3600_000, maxOpenMs: 2 * 3600_000 });
    await waitFor(() => r.rec.events.length === 1 && r.warnings.length === 1, 3000, 'zombie');
    assert.match(r.warnings[0], new RegExp(zombie));
    await waitFor(() => r.poller.position > t0 - 1000, 2000, 'window not held by the zombie');
    const hours = r.bodies.slice(0, 4).map((b) => { const [a, z] = b.interval.split('/'); return (Date.parse(z) - Date.parse(a)) / 3600_000; });
    assert.deepEqual(hours, [1, 1, 1, 1], 'a 4 h backlog in 1 h slices');
    await sleep(300);
    assert.deepEqual([r.rec.events.length, r.warnings.length], [1, 1], 'emitted once, reported once');
    rig.sim.world.update(zombie, { state: 'ended', endTime: new Date().toISOString() });
    await waitFor(() => r.rec.events.length === 2, 2000, 'its end, when it finally comes');
  });
});
