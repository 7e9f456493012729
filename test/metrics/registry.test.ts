// lib/metrics without Node-RED: counters become per-node series only when scraped, probes feed
// gauges, released and removed nodes, the shared global registry, health semantics, the listener.
import { strict as assert } from 'node:assert';
import {
  growth, health, listenMetrics, metricsText, nodeMetrics, observeAckLatency, releaseNode, HealthRegistry,
} from '../../lib/metrics';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { uniqueName } from '../fixtures/env';
import { parseExposition, sampleValue } from './exposition';

const scrape = async () => parseExposition(await metricsText());

describe('metrics registry', () => {
  const ids: string[] = [];
  const node = (type: string, name = '') => {
    const id = uniqueName('n');
    ids.push(id);
    return { id, type, name };
  };
  afterEach(() => { for (const id of ids.splice(0)) releaseNode(id, true); });

  it('exports per-node counters labelled by type, id and name; declared ones at 0, others once used', async () => {
    const n = node('dedup', 'my "dedup"\nline');
    const m = nodeMetrics(n, ['received', 'duplicates']);
    let f = await scrape();
    const labels = { node_type: 'dedup', node_id: n.id, node_name: 'my "dedup"\nline' };
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', labels), 0);
    assert.equal(sampleValue(f, 'genesys_kafka_duplicates_total', labels), 0);
    assert.equal(sampleValue(f, 'genesys_kafka_events_sent_total', labels), undefined, 'undeclared and unused: no series');
    for (let i = 0; i < 1000; i++) m.received++;
    m.duplicates += 3;
    m.sent++;
    m.deadLetter('poison');
    m.deadLetter('poison');
    m.reconnect('dropped');
    f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', labels), 1000);
    assert.equal(sampleValue(f, 'genesys_kafka_duplicates_total', labels), 3);
    assert.equal(sampleValue(f, 'genesys_kafka_events_sent_total', labels), 1);
    assert.equal(sampleValue(f, 'genesys_kafka_dead_letters_total', { ...labels, reason: 'poison' }), 2);
    assert.equal(sampleValue(f, 'genesys_kafka_reconnects_total', { ...labels, reason: 'dropped' }), 1);
    assert.equal(f.get('genesys_kafka_events_received_total')!.type, 'counter');
    m.received += 5;
    f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', labels), 1005, 'a second scrape adds only the growth');
  });

  it('reads probes into gauges at scrape time and drops them when the node closes', async () => {
    const n = node('kafka-out');
    const m = nodeMetrics(n);
    let queue = 7;
    m.probe(() => ({ inFlight: queue, queued: 2 }));
    const labels = { node_type: 'kafka-out', node_id: n.id };
    let f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_in_flight', labels), 7);
    assert.equal(sampleValue(f, 'genesys_kafka_queued', labels), 2);
    queue = 0;
    f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_in_flight', labels), 0);
    m.probe(() => { throw new Error('half closed'); });
    f = await scrape(); // a failing probe does not break the scrape
    assert.equal(sampleValue(f, 'genesys_kafka_queued', labels), 2);
    releaseNode(n.id, false);
    f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_in_flight', labels), undefined, 'a closed node has no gauges');
  });

  it('keeps a redeployed node\'s totals growing and removes the series of a deleted node', async () => {
    const n = node('normalize', 'n1');
    const labels = { node_type: 'normalize', node_id: n.id };
    nodeMetrics(n, ['received']).received += 10;
    assert.equal(sampleValue(await scrape(), 'genesys_kafka_events_received_total', labels), 10);
    releaseNode(n.id, false); // redeploy: same id comes back
    const again = nodeMetrics(n, ['received']);
    again.received += 5;
    assert.equal(sampleValue(await scrape(), 'genesys_kafka_events_received_total', labels), 15);
    const renamed = nodeMetrics({ ...n, name: 'n2' }, ['received']);
    renamed.received++;
    let f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', { ...labels, node_name: 'n2' }), 16);
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', { ...labels, node_name: 'n1' }), undefined, 'the old name\'s series went');
    observeAckLatency(renamed, 0.02, 200);
    releaseNode(n.id, true);
    f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', labels), undefined);
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_count', labels), undefined);
  });

  it('absorbs a library\'s own running totals (growth) and reads them once more on close', async () => {
    const n = node('dlq');
    const m = nodeMetrics(n);
    const lib = { byReason: { poison: 2, validation: 0 } as Record<string, number> };
    const byReason = growth((reason, k) => m.deadLetter(reason, k));
    m.probe(() => byReason(lib.byReason));
    const labels = { node_type: 'dlq', node_id: n.id };
    assert.equal(sampleValue(await scrape(), 'genesys_kafka_dead_letters_total', { ...labels, reason: 'poison' }), 2);
    lib.byReason.poison = 5;
    lib.byReason.validation = 1;
    releaseNode(n.id, false); // the last growth is taken at close
    // The redeployed node has a fresh library object starting at 0: no double count.
    const m2 = nodeMetrics(n);
    const fresh = { poison: 1 };
    const byReason2 = growth((reason, k) => m2.deadLetter(reason, k));
    m2.probe(() => byReason2(fresh));
    const f = await scrape();
    assert.equal(sampleValue(f, 'genesys_kafka_dead_letters_total', { ...labels, reason: 'poison' }), 6);
    assert.equal(sampleValue(f, 'genesys_kafka_dead_letters_total', { ...labels, reason: 'validation' }), 1);
  });

  it('has an ack latency histogram per node and status code, the unsettled gauge, and process metrics', async () => {
    const n = node('genesys-webhook-in', 'hook');
    const m = nodeMetrics(n);
    observeAckLatency(m, 0.003, 200);
    observeAckLatency(m, 0.2, 200);
    observeAckLatency(m, 12, 503);
    const open = deliveryTracker.open(3, 5000);
    const f = await scrape();
    const labels = { node_type: 'genesys-webhook-in', node_id: n.id, code: '200' };
    assert.equal(f.get('genesys_kafka_ack_latency_seconds')!.type, 'histogram');
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_count', labels), 2);
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_bucket', { ...labels, le: '0.005' }), 1);
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_bucket', { ...labels, le: '+Inf' }), 2);
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_count', { ...labels, code: '503' }), 1);
    assert.ok(sampleValue(f, 'genesys_kafka_unsettled_deliveries', {})! >= 3);
    assert.ok(f.has('process_resident_memory_bytes') && f.has('nodejs_eventloop_lag_seconds'), 'default process metrics');
    deliveryTracker.cancel(open.ids);
  });

  it('is one registry per process even when the module is loaded twice', () => {
    const file = require.resolve('../../lib/metrics/registry');
    const cached = require.cache[file];
    delete require.cache[file];
    try {
      const copy = require('../../lib/metrics/registry') as typeof import('../../lib/metrics/registry');
      assert.notEqual(copy.nodeMetrics, nodeMetrics, 'a second module instance');
      const n = node('dedup');
      assert.equal(copy.nodeMetrics(n), nodeMetrics(n), 'shares the per-node counters');
      assert.equal(copy.health, health);
    } finally {
      require.cache[file] = cached;
    }
  });

  it('costs a plain property increment per event', () => {
    const m = nodeMetrics(node('dedup'));
    const n = 20_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) m.received++;
    const ns = Number(process.hrtime.bigint() - t0) / n;
    console.log(`      [figure] m.received++: ${ns.toFixed(2)} ns per event`);
    assert.equal(m.received, n);
    assert.ok(ns < 200, `${ns} ns per increment`);
  });
});

describe('health registry', () => {
  it('is ready only when every component is, lists the failing ones, and treats a throwing check as not ready', () => {
    const h = new HealthRegistry();
    assert.deepEqual(h.report(), { status: 'ready', components: [] });
    let connected = false;
    const broker = { type: 'kafka-broker', name: 'k', check: () => ({ ready: connected, detail: connected ? 'connected' : 'connecting' }) };
    h.register('b1', broker);
    h.register('w1', { type: 'genesys-ws-in', check: () => ({ ready: true, detail: 'connected' }) });
    assert.deepEqual(h.report(), { status: 'not-ready', components: [{ id: 'b1', type: 'kafka-broker', name: 'k', ready: false, detail: 'connecting' }] });
    connected = true;
    const ready = h.report();
    assert.equal(ready.status, 'ready');
    assert.equal(ready.components.length, 2);
    h.register('p1', { type: 'genesys-eventstream-poll', check: () => { throw new Error('boom'); } });
    assert.deepEqual(h.report().components.map((c) => [c.id, c.detail]), [['p1', 'check failed: boom']]);
    h.deregister('p1');
    h.flowsRunning = false;
    assert.equal(h.report().status, 'starting', 'not ready while flows start or redeploy');
    h.flowsRunning = true;
    assert.equal(h.report().status, 'ready');
  });

  it('deregisters only the component it registered (an old instance closing late keeps the new one)', () => {
    const h = new HealthRegistry();
    const unregisterOld = h.register('n1', { type: 'x', check: () => ({ ready: true }) });
    h.register('n1', { type: 'x', check: () => ({ ready: false, detail: 'new' }) });
    unregisterOld();
    assert.equal(h.report().components[0]?.detail, 'new');
  });
});

describe('dedicated metrics listener', () => {
  it('serves /metrics and /health without auth, 404 elsewhere, 405 for other methods', async () => {
    const l = await listenMetrics(0, '127.0.0.1');
    const flowsRunning = health.flowsRunning;
    health.flowsRunning = undefined; // a helper test before this one may have left it "stopped"
    const id = uniqueName('hb');
    let ready = false;
    const unregister = health.register(id, { type: 'kafka-broker', name: 'b', check: () => ({ ready, detail: ready ? 'connected' : 'disconnected' }) });
    try {
      const base = `http://127.0.0.1:${l.port}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      const f = parseExposition(await metrics.text());
      assert.equal(sampleValue(f, 'genesys_kafka_component_ready', { node_id: id }), 0);
      const notReady = await fetch(`${base}/health`);
      assert.equal(notReady.status, 503);
      const body = await notReady.json() as { status: string; components: { id: string; detail: string }[] };
      assert.equal(body.status, 'not-ready');
      assert.deepEqual(body.components.find((c) => c.id === id)?.detail, 'disconnected');
      ready = true;
      const admin = await fetch(`${base}/genesys-kafka/health`); // the admin paths work too
      const report = await admin.json() as { components: { id: string; ready: boolean }[] };
      assert.equal(report.components.find((c) => c.id === id)?.ready, true);
      assert.equal((await fetch(`${base}/other`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      unregister();
      health.flowsRunning = flowsRunning;
      await l.close();
    }
  });
});
