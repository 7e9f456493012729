// Metrics and health through real flows (node-red-node-test-helper, the shared Kafka broker, the
// Genesys simulator): inject → dedup → normalize → kafka-out moves the per-node counters, the
// plugin's admin endpoints serve them, health follows the broker and the sources, no secret leaks.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import { freePort } from '../../harness/kafka';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { EventStreamsState } from '../../simulator/routes/eventstreams';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import { waitFor } from '../kafka/node-support';
import { startConversations } from '../poll/support';
import { goldenCases } from '../events/golden-cases';
import { parseExposition, sampleValue, type Family } from './exposition';

const plugin = require('../../nodes/genesys-kafka-metrics/genesys-kafka-metrics');
const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');
const dedupNode = require('../../nodes/dedup/dedup');
const normalizeNode = require('../../nodes/normalize/normalize');
const configNode = require('../../nodes/genesys-config/genesys-config');
const pollNode = require('../../nodes/genesys-eventstream-poll/genesys-eventstream-poll');
const dlqNode = require('../../nodes/dlq/dlq');
const injectNode = require('@node-red/nodes/core/common/20-inject.js');

helper.init(require.resolve('node-red'));

const at = (nodes: any[]): any[] => nodes.map((n, i) => (n.z ? { x: 100 + 10 * i, y: 100, ...n } : n));

/** A guide-000 push event with its own event id (the dedup key is eventId:sequence). */
const push = goldenCases().find((c) => c.name === 'push-voice-connected')!;
const event = (i: number) => ({ ...push.input, metadata: { ...push.input.metadata, eventId: `evt-metrics-${i}` }, data: { ...push.input.data, conversationId: `conv-m-${i % 7}` } });

async function get(url: string): Promise<{ status: number; text: string; type: string }> {
  const res = await helper.request().get(url);
  return { status: res.status, text: res.text, type: String(res.headers['content-type']) };
}
const metrics = async (): Promise<Map<string, Family>> => {
  const r = await get('/genesys-kafka/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  return parseExposition(r.text);
};

describe('metrics and health in flows', function () {
  this.timeout(60_000);
  let sim: GenesysSimulator;
  let dir: string;
  /** Node ids unique to each test: a node's counters outlive its redeploys (same id), so tests in one process must not share ids. */
  let id: Record<'dd' | 'norm' | 'out' | 'kb' | 'gc' | 'poll' | 'acked' | 'polled' | 'bad' | 'inject' | 'dlq', string>;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-flow-'));
    const suffix = uniqueName('');
    id = Object.fromEntries(['dd', 'norm', 'out', 'kb', 'gc', 'poll', 'acked', 'polled', 'bad', 'inject', 'dlq'].map((k) => [k, k + suffix])) as typeof id;
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const genesysNodes = (baseUrl: string, streamId: string) => [
    { id: id.gc, type: 'genesys-config', name: 'org', region: 'custom', baseUrl, refreshBuffer: 300, timeout: 2 },
    { id: id.poll, type: 'genesys-eventstream-poll', z: 'tab', name: 'stream', genesys: id.gc, mode: 'eventstream', streamId, interval: 0.1,
      pageSize: 50, ack: 'emit', store: 'file', cursorFile: path.join(dir, 'cursor.json'), errorRetryMs: 300, backoffInitialMs: 50, backoffMaxMs: 200, wires: [[id.polled]] },
    { id: id.polled, type: 'helper', z: 'tab' },
  ];

  it('counts events per node through inject → dedup → normalize → kafka-out and says ready once everything is connected', async () => {
    const topic = uniqueName('metrics-flow');
    const stream = (sim.state.eventstreams as EventStreamsState).createStream('metrics', [{ entityType: 'interaction', eventType: 'created' }]);
    startConversations(sim, 5);
    const flow = at([
      { id: 'tab', type: 'tab', label: 'metrics' },
      { id: id.inject, type: 'inject', z: 'tab', props: [{ p: 'payload' }, { p: 'genesys', v: JSON.stringify(push.genesys), vt: 'json' }],
        payload: JSON.stringify(event(0)), payloadType: 'json', once: true, onceDelay: 0.1, repeat: '', wires: [[id.dd]] },
      { id: id.dd, type: 'dedup', z: 'tab', name: 'dedup "one"', keyMode: 'auto', store: 'memory', window: 300, duplicates: 'drop', wires: [[id.norm], [], []] },
      { id: id.norm, type: 'normalize', z: 'tab', name: 'normalize', shape: 'auto', wires: [[id.out], [id.bad]] },
      { id: id.bad, type: 'helper', z: 'tab' },
      { id: id.kb, type: 'kafka-broker', name: 'shared', brokers: kafkaBrokers().join(','), clientId: 'metrics-test', connectionTimeout: 1000, requestTimeout: 5000 },
      { id: id.out, type: 'kafka-out', z: 'tab', name: 'to kafka', broker: id.kb, topic, keyProperty: 'key', lingerMs: 5, maxQueued: 1000, retries: 3, deliveryTimeout: 20, flushTimeout: 5, wires: [[id.acked]] },
      { id: id.acked, type: 'helper', z: 'tab' },
      ...genesysNodes(sim.baseUrl, stream.subscription.id),
    ]);
    await helper.load([plugin, injectNode, dedupNode, normalizeNode, brokerNode, kafkaOutNode, configNode, pollNode], flow,
      { [id.gc]: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
    const acked: any[] = [];
    helper.getNode(id.acked).on('input', (m: any) => acked.push(m));
    const polled: any[] = [];
    helper.getNode(id.polled).on('input', (m: any) => polled.push(m));
    await waitFor(() => acked.length === 1, 20_000, 'the injected event in Kafka');
    // 200 more events, every fourth one a repeat of an earlier event id, plus one that normalize rejects.
    const dd = helper.getNode(id.dd);
    for (let i = 1; i <= 200; i++) dd.receive({ payload: event(i % 4 === 0 ? i - 1 : i), genesys: push.genesys } as any);
    const bad = event(1000);
    dd.receive({ payload: { ...bad, data: { ...bad.data, timestamp: 'yesterday' } }, genesys: push.genesys } as any);
    await waitFor(() => acked.length === 151, 20_000, '151 acks');
    await waitFor(() => polled.length === 5, 10_000, '5 polled events');

    const f = await metrics();
    const v = (name: string, id: string, extra: Record<string, string> = {}) => sampleValue(f, name, { node_id: id, ...extra });
    assert.equal(v('genesys_kafka_events_received_total', id.dd, { node_type: 'dedup', node_name: 'dedup "one"' }), 202);
    assert.equal(v('genesys_kafka_duplicates_total', id.dd), 50);
    assert.equal(v('genesys_kafka_events_sent_total', id.dd), 152);
    assert.equal(v('genesys_kafka_events_received_total', id.norm), 152);
    assert.equal(v('genesys_kafka_events_sent_total', id.norm), 151);
    assert.equal(v('genesys_kafka_events_failed_total', id.norm), 1);
    assert.equal(v('genesys_kafka_events_received_total', id.out), 151);
    assert.equal(v('genesys_kafka_records_acked_total', id.out, { node_type: 'kafka-out', node_name: 'to kafka' }), 151);
    assert.equal(v('genesys_kafka_record_errors_total', id.out), 0);
    assert.equal(v('genesys_kafka_in_flight', id.out), 0);
    assert.equal(v('genesys_kafka_events_received_total', id.poll), 5);
    assert.equal(v('genesys_kafka_token_refreshes_total', id.gc), 1);
    assert.equal(v('genesys_kafka_token_failures_total', id.gc), 0);
    assert.equal(v('genesys_kafka_component_ready', id.kb), 1);
    assert.equal((await readBack(kafkaBrokers(), [topic], 151)).length, 151);

    const h = await get('/genesys-kafka/health');
    assert.equal(h.status, 200);
    const report = JSON.parse(h.text);
    assert.equal(report.status, 'ready');
    assert.deepEqual(report.components.map((c: any) => c.id).sort(), [id.gc, id.kb, id.poll].sort());
    assert.equal(report.components.find((c: any) => c.id === id.kb).detail, 'connected');
  });

  it('answers 503 naming the broker on an unreachable port and the failing login, counts the dead letter it spools, and never shows a secret', async () => {
    const deadPort = await freePort();
    const kafkaPassword = `kafka-pw-${uniqueName('s')}`;
    const clientSecret = `client-secret-${uniqueName('s')}`;
    const flow = at([
      { id: 'tab', type: 'tab', label: 'metrics' },
      { id: id.kb, type: 'kafka-broker', name: 'nowhere', brokers: `127.0.0.1:${deadPort}`, clientId: 'metrics-dead', saslMechanism: 'plain', connectionTimeout: 300, requestTimeout: 1000 },
      { id: id.out, type: 'kafka-out', z: 'tab', broker: id.kb, topic: uniqueName('dead'), lingerMs: 5, retries: 0, deliveryTimeout: 1, flushTimeout: 1, wires: [[]] },
      { id: 'catcher', type: 'catch', z: 'tab', scope: [id.out], uncaught: false, wires: [[id.dlq]] },
      { id: id.dlq, type: 'dlq', z: 'tab', broker: id.kb, retries: 0, spoolDir: path.join(dir, 'spool'), spoolAfterMs: 100, wires: [[], []] },
      ...genesysNodes(`http://127.0.0.1:${deadPort}`, 'stream-x'),
    ]);
    await helper.load([plugin, brokerNode, kafkaOutNode, configNode, pollNode, dlqNode], flow, {
      [id.kb]: { username: 'metrics-user', password: kafkaPassword },
      [id.gc]: { clientId: 'client-id-x', clientSecret },
    });
    helper.getNode(id.out).receive({ payload: { a: 1 }, key: 'k' } as any);
    let h = { status: 0, text: '', type: '' };
    const deadline = Date.now() + 15_000;
    let text = '';
    for (;;) {
      h = await get('/genesys-kafka/health');
      text = (await get('/genesys-kafka/metrics')).text;
      const f = parseExposition(text);
      if (sampleValue(f, 'genesys_kafka_token_failures_total', { node_id: id.gc })! > 0 && sampleValue(f, 'genesys_kafka_record_errors_total', { node_id: id.out })! > 0
        && sampleValue(f, 'genesys_kafka_dlq_spool_depth', { node_id: id.dlq }) === 1) break;
      if (Date.now() > deadline) throw new Error(`no token failure, record error and spooled dead letter seen:\n${text.slice(0, 3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(h.status, 503);
    const report = JSON.parse(h.text);
    assert.equal(report.status, 'not-ready');
    const kb = report.components.find((c: any) => c.id === id.kb);
    assert.equal(kb.type, 'kafka-broker');
    assert.equal(kb.ready, false);
    assert.match(kb.detail, /^(connecting|disconnected)/);
    assert.ok(report.components.some((c: any) => c.id === id.gc && !c.ready), 'the failing login is listed');
    const poll = report.components.find((c: any) => c.id === id.poll);
    assert.equal(poll?.ready, false, 'the poller without a token is listed');
    assert.match(poll.detail, /^no answer yet/);
    const f = parseExposition(text);
    assert.equal(sampleValue(f, 'genesys_kafka_dead_letters_total', { node_id: id.dlq, node_type: 'dlq', reason: 'transport' }), 1);
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', { node_id: id.dlq }), 1);
    assert.equal(sampleValue(f, 'genesys_kafka_records_acked_total', { node_id: id.dlq }), 0);
    assert.equal(f.get('genesys_kafka_component_ready')!.samples.find((s) => s.labels.node_id === id.kb)!.value, 0);
    for (const out of [h.text, text]) {
      for (const secret of [kafkaPassword, clientSecret, Buffer.from(`client-id-x:${clientSecret}`).toString('base64')]) {
        assert.ok(!out.includes(secret), 'a secret in the metrics or health output');
      }
    }
  });
});
