// Fast tests of what the fault suite found (each one made a scenario lose events):
//   - a webhook path answered 404 while a full deploy restarted its node: the sender gives up on 4xx;
//   - the analytics socket subscribed to everything was never backfilled (no topics to query);
//   - the time a socket source was away (redeploy, restart, crash) was never backfilled.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import { ALL_CONVERSATIONS, Backfill, type BackfillEvent } from '../../lib/genesys/channels/backfill';
import { DowntimeMarker } from '../../lib/genesys/downtime-marker';
import { WebhookPathsFile } from '../../lib/ingest/webhook-paths';
import { dropPlaceholders, holdPathUntilFlowsStart, mountOnHttpNode } from '../../nodes/genesys-webhook-in/http-route';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { AnalyticsSocketState } from '../../simulator/routes/analytics-ws';
import configInit = require('../../nodes/genesys-config/genesys-config');
import wsInInit = require('../../nodes/genesys-ws-in/genesys-ws-in');
import { SimApi } from '../channels/support';
import { sleep, waitUntil } from './support/harness';

helper.init(require.resolve('node-red'));

const startConv = (sim: GenesysSimulator, id: string, queueId = 'q-sales') =>
  sim.world.start({ id, mediaType: 'voice', direction: 'inbound', queueId, queueName: 'Sales', customerAddress: 'tel:+1555', startTime: new Date().toISOString() });

describe('fault suite findings', function () {
  this.timeout(20_000);

  describe('webhook route during a redeploy', () => {
    let server: http.Server;
    let url = '';
    const express = require('express');
    const app = express();
    const httpNode = express();
    app.use('/', httpNode);
    before(async () => {
      server = http.createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => { dropPlaceholders(); await new Promise<void>((r) => server.close(() => r())); });
    const post = async (p: string) => { const r = await fetch(url + p, { method: 'POST', body: '{}' }); await r.arrayBuffer(); return r; };
    const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => { res.writeHead(200).end('ok'); };

    it('answers 503 + Retry-After (never 404) until the restarted node takes the path back', async () => {
      const first = mountOnHttpNode(httpNode, '/genesys/a', 'n1', ok);
      assert.equal((await post('/genesys/a')).status, 200);
      await first.close(true);
      const gap = await post('/genesys/a');
      assert.equal(gap.status, 503);
      assert.equal(gap.headers.get('retry-after'), '1');
      const second = mountOnHttpNode(httpNode, '/genesys/a', 'n1', ok);
      assert.equal((await post('/genesys/a')).status, 200);
      await second.close(false);
      assert.equal((await post('/genesys/a')).status, 404, 'a removed node frees its path');
    });

    it('a path nobody took back answers 404 once the new flows started (or the runtime stopped)', async () => {
      const l = mountOnHttpNode(httpNode, '/genesys/b', 'n2', ok);
      await l.close(true);
      assert.equal((await post('/genesys/b')).status, 503);
      dropPlaceholders();
      assert.equal((await post('/genesys/b')).status, 404);
    });

    it('a cold start holds the last run\'s paths (from the paths file) with 503 until a node takes them or the flows started', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-paths-'));
      try {
        const file = path.join(dir, 'genesys-webhook-in', 'paths.json');
        const run1 = new WebhookPathsFile(file);
        run1.set('n3', '/genesys/c');
        run1.set('n4', '/genesys/d');
        run1.set('n5', '/genesys/gone');
        run1.delete('n5'); // removed from the flows: not held next time
        const run2 = new WebhookPathsFile(file);
        assert.deepEqual(run2.paths().sort(), ['/genesys/c', '/genesys/d']);
        for (const p of run2.paths()) holdPathUntilFlowsStart(httpNode, p);
        assert.equal((await post('/genesys/c')).status, 503, 'before the flows started');
        assert.equal((await post('/genesys/gone')).status, 404);
        const taken = mountOnHttpNode(httpNode, '/genesys/c', 'n3', ok);
        assert.equal((await post('/genesys/c')).status, 200, 'the started node takes its path');
        assert.equal((await post('/genesys/d')).status, 503);
        dropPlaceholders(); // flows:started: n4 is no longer in the flows
        assert.equal((await post('/genesys/d')).status, 404);
        assert.equal((await post('/genesys/c')).status, 200);
        await taken.close(false);
        fs.writeFileSync(file, '["not", "a map"]');
        assert.deepEqual(new WebhookPathsFile(file).paths(), [], 'a broken file holds nothing');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('backfill of an unfiltered analytics subscription', () => {
    let sim: GenesysSimulator;
    beforeEach(async () => { sim = new GenesysSimulator({ rateLimitPerMinute: 0 }); await sim.start(); });
    afterEach(async () => { await sim.stop(); });

    it('a gap on "every conversation" looks up every conversation active in the window, on any queue', async () => {
      const api = new SimApi(sim);
      const backfill = new Backfill({ api, subscribedTopics: () => [ALL_CONVERSATIONS], slackMs: 500 });
      const from = new Date().toISOString();
      startConv(sim, 'c-sales', 'q-sales');
      startConv(sim, 'c-support', 'q-support');
      sim.world.update('c-support', { state: 'ended', endTime: new Date().toISOString() });
      await sleep(20);
      const got: BackfillEvent[] = [];
      backfill.on('event', (e: BackfillEvent) => got.push(e));
      await backfill.fill({ from, to: new Date().toISOString(), topics: [ALL_CONVERSATIONS], channelId: 'analytics', reason: 'analytics socket down' });
      backfill.stop();
      assert.deepEqual(got.map((e) => e.eventBody.id).sort(), ['c-sales', 'c-support']);
      assert.deepEqual(got.map((e) => e.topicName).sort(), ['v2.routing.queues.q-sales.conversations', 'v2.routing.queues.q-support.conversations']);
      const query = api.calls.filter((c) => c.startsWith('POST /api/v2/analytics/conversations/details/query'));
      assert.equal(query.length, 1, 'one unfiltered query');
    });
  });

  describe('downtime marker', () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'downtime-')); });
    afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

    it('remembers the last connected moment across instances; keeps it when the next run never connected; forgets it on removal', () => {
      const file = path.join(dir, 'sub', 'ws.json');
      const a = new DowntimeMarker(file, 1000);
      assert.equal(a.previous, undefined, 'first start');
      a.alive(Date.parse('2026-01-01T00:00:00.000Z'));
      a.alive(Date.parse('2026-01-01T00:00:00.500Z')); // throttled
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:00.000Z');
      a.alive(Date.parse('2026-01-01T00:00:01.500Z'));
      const b = new DowntimeMarker(file);
      assert.equal(b.previous, '2026-01-01T00:00:01.500Z');
      b.close(); // never connected in this run: the older moment stays
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:01.500Z');
      fs.writeFileSync(file, 'not json');
      assert.equal(new DowntimeMarker(file).previous, undefined, 'a broken file is a first start');
      new DowntimeMarker(file).close(true);
      assert.equal(fs.existsSync(file), false);
    });

    it('never moves past a gap whose backfill has not finished (a crash mid-backfill repeats it)', () => {
      const file = path.join(dir, 'held', 'ws.json');
      const t = (s: string) => Date.parse(`2026-01-01T00:00:${s}Z`);
      const a = new DowntimeMarker(file, 1000);
      const releaseRestart = a.hold('2026-01-01T00:00:00.000Z'); // the restart gap, before the first connect
      a.alive(t('05.000'));
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:00.000Z', 'held at the gap start while it is filled');
      const releaseDrop = a.hold('2026-01-01T00:00:03.000Z'); // a second gap while the first is being filled
      releaseRestart();
      a.alive(t('07.000'));
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:03.000Z', 'the earliest unfinished gap');
      releaseDrop();
      a.alive(t('09.000'));
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:09.000Z', 'moves on once every gap is filled');
      const releaseLast = a.hold('2026-01-01T00:00:08.500Z');
      a.close(); // a redeploy stops the backfill unfinished: the next start repeats the gap
      assert.equal(new DowntimeMarker(file).previous, '2026-01-01T00:00:08.500Z');
      releaseLast();
    });
  });

  describe('genesys-ws-in after a redeploy or restart', () => {
    let sim: GenesysSimulator;
    let userDir: string;
    let saved: Record<string, unknown> | undefined;
    before((done) => { helper.startServer(done); });
    after((done) => { helper.stopServer(done); });
    beforeEach(async () => {
      sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0 });
      await sim.start();
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-in-restart-'));
      saved = (helper.settings as unknown as (s?: Record<string, unknown>) => Record<string, unknown> | undefined)();
      helper.settings({ ...saved, userDir });
    });
    afterEach(async () => {
      await helper.unload();
      // A userDir must not leak into later test files (it turns the marker on for their nodes).
      helper.settings({ ...saved, userDir: undefined });
      await sim.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    const flow = () => [
      { id: 'tab', type: 'tab' },
      { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 },
      { id: 'ws', type: 'genesys-ws-in', z: 'tab', genesys: 'c1', mode: 'analytics', queueIds: '', queueIdsType: 'str', userIds: '', userIdsType: 'str',
        topics: '', mediaTypes: '', idleTimeout: 1, reconnectMax: 0.4, backfill: true, janitor: false, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
    ];
    const creds = () => ({ c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });

    it('backfills the time it was away: conversations that changed while no node listened come out marked backfilled', async () => {
      const analytics = sim.state.analytics as AnalyticsSocketState;
      await helper.load([configInit, wsInInit], flow(), creds());
      await waitUntil('subscribed', () => analytics.subscriptions.length === 1, 5000);
      startConv(sim, 'c-live');
      await sleep(100);
      await helper.unload();
      // Nobody listens: the platform keeps nothing.
      startConv(sim, 'c-away', 'q-support');
      sim.world.update('c-live', { state: 'ended', endTime: new Date().toISOString() });
      await helper.load([configInit, wsInInit], flow(), creds());
      const out: any[] = [];
      helper.getNode('out').on('input', (m: any) => out.push(m));
      await waitUntil('restart backfill', () => ['c-away', 'c-live'].every((id) => out.some((m) => m.genesys.backfilled && m.key === id)), 8000);
      assert.ok(out.filter((m) => m.genesys.backfilled).every((m) => m.genesys.source === 'backfill'));
      assert.ok(fs.existsSync(path.join(userDir, 'genesys-ws-in', 'ws.json')));
    });

    it('stopped while backfilling the time it was away: the next start backfills that time again', async () => {
      const analytics = sim.state.analytics as AnalyticsSocketState;
      const marker = path.join(userDir, 'genesys-ws-in', 'ws.json');
      await helper.load([configInit, wsInInit], flow(), creds());
      await waitUntil('subscribed', () => analytics.subscriptions.length === 1, 5000);
      await helper.unload();
      const away = JSON.parse(fs.readFileSync(marker, 'utf8')).connectedUntil as string;
      startConv(sim, 'c-away');
      // The restart backfill hangs on its details query; the node is stopped (or killed) meanwhile.
      const undelay = sim.injectDelay('/api/v2/analytics/conversations/details/query', 60_000);
      await helper.load([configInit, wsInInit], flow(), creds());
      await waitUntil('subscribed again', () => analytics.subscriptions.length === 2, 5000);
      await sleep(2500); // past the marker's 2 s write interval while connected
      assert.equal(JSON.parse(fs.readFileSync(marker, 'utf8')).connectedUntil, away, 'the marker stays at the unfilled gap');
      await helper.unload();
      undelay();
      assert.equal(JSON.parse(fs.readFileSync(marker, 'utf8')).connectedUntil, away, 'a stop mid-backfill keeps the gap');
      await helper.load([configInit, wsInInit], flow(), creds());
      const out: any[] = [];
      helper.getNode('out').on('input', (m: any) => out.push(m));
      await waitUntil('the gap backfilled on the third start', () => out.some((m) => m.genesys.backfilled && m.key === 'c-away'), 8000);
    });

    it('a first start has nothing to backfill', async () => {
      const analytics = sim.state.analytics as AnalyticsSocketState;
      startConv(sim, 'c-before');
      await helper.load([configInit, wsInInit], flow(), creds());
      const out: any[] = [];
      helper.getNode('out').on('input', (m: any) => out.push(m));
      await waitUntil('subscribed', () => analytics.subscriptions.length === 1, 5000);
      await sleep(500);
      assert.deepEqual(out.filter((m) => m.genesys.backfilled), []);
    });
  });
});
