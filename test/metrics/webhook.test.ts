// genesys-webhook-in's metrics and health: the ack latency histogram per answer status (after
// delivery: request → every event settled → answer), the received counter, the listening check.
import { strict as assert } from 'node:assert';
import { helper, jsonHeaders, post, settleInit, startServer, webhookInit } from '../webhook/node-support';
import { AUD, token } from '../webhook/support';
import { uniqueName } from '../fixtures/env';
import { parseExposition, sampleValue } from './exposition';

const plugin = require('../../nodes/genesys-kafka-metrics/genesys-kafka-metrics');

describe('genesys-webhook-in metrics and health', function () {
  this.timeout(15_000);
  before(startServer);
  afterEach(() => helper.unload());
  after(() => helper.stopServer());

  it('observes request → answer latency by status, counts events, and is ready while listening', async () => {
    const id = uniqueName('hook');
    const hookPath = `/${id}`;
    await helper.load([plugin, webhookInit, settleInit], [
      { id: 'tab1', type: 'tab' },
      { id, x: 100, y: 100, z: 'tab1', type: 'genesys-webhook-in', name: 'push', path: hookPath, ack: 'delivery', ackTimeout: 5, audience: AUD, issuer: 'genesys-cloud', wires: [['settle']] },
      { id: 'settle', x: 300, y: 100, z: 'tab1', type: 'test-settle', mode: 'settle', wires: [] },
    ], { [id]: { secret: 'webhook-test-secret-0123456789abcdef' } });
    await (helper.getNode(id) as any).ready;
    const url = helper.url() + hookPath;
    const event = (seq: number) => ({ data: { conversationId: 'conv-1', type: 'voice', state: 'connected' }, metadata: { eventId: `e-${seq}`, sequence: seq } });
    for (let i = 1; i <= 3; i++) assert.equal((await post(url, JSON.stringify([event(i), event(i + 100)]), jsonHeaders(token()))).status, 200);
    assert.equal((await post(url, JSON.stringify(event(9)), jsonHeaders('not.a.jwt'))).status, 401);

    const res = await helper.request().get('/genesys-kafka/metrics');
    const f = parseExposition(res.text);
    const labels = { node_type: 'genesys-webhook-in', node_id: id, node_name: 'push' };
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_count', { ...labels, code: '200' }), 3);
    assert.equal(sampleValue(f, 'genesys_kafka_ack_latency_seconds_count', { ...labels, code: '401' }), 1);
    assert.ok(sampleValue(f, 'genesys_kafka_ack_latency_seconds_sum', { ...labels, code: '200' })! > 0);
    assert.equal(sampleValue(f, 'genesys_kafka_events_received_total', labels), 6);

    const health = await helper.request().get('/genesys-kafka/health');
    assert.equal(health.status, 200);
    const hook = JSON.parse(health.text).components.find((c: any) => c.id === id);
    assert.deepEqual([hook.type, hook.ready, hook.detail], ['genesys-webhook-in', true, `listening on ${hookPath}`]);
  });

  it('is not ready without a signing secret', async () => {
    const id = uniqueName('hook');
    await helper.load([plugin, webhookInit], [
      { id: 'tab1', type: 'tab' },
      { id, x: 100, y: 100, z: 'tab1', type: 'genesys-webhook-in', path: `/${id}`, audience: AUD, wires: [[]] },
    ], {});
    await (helper.getNode(id) as any).ready;
    const health = await helper.request().get('/genesys-kafka/health');
    assert.equal(health.status, 503);
    const hook = JSON.parse(health.text).components.find((c: any) => c.id === id);
    assert.deepEqual([hook.ready, hook.detail], [false, 'no-secret']);
  });
});
