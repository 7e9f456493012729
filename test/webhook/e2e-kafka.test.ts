// The simulator's push sender → genesys-webhook-in ("after delivery") → kafka-out → a real Kafka topic.
import { strict as assert } from 'node:assert';
import { KafkaServer } from '../../harness/kafka';
import type { PushState } from '../../simulator/routes/push';
import type { GenesysSimulator } from '../../simulator/server';
import { DEFAULT_CLIENT } from '../../simulator/server';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import { helper, settleInit, startServer, tab, webhookInit } from './node-support';
import { api, AUD, conversation, registration, SECRET, simulatorWithToken, sleep } from './support';

const genesysConfigNode = require('../../nodes/genesys-config/genesys-config');
const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');

function pipeline(o: { brokers: string; topic: string; webhook?: Record<string, unknown>; withWebhook?: boolean; simUrl?: string }) {
  const nodes: any[] = [
    tab,
    { id: 'broker', type: 'kafka-broker', name: 'k', brokers: o.brokers, clientId: 'webhook-e2e', connectionTimeout: 1000, requestTimeout: 5000, autoCreateTopics: true, topicPartitions: 3, topicReplicationFactor: 1 },
    { id: 'out', type: 'kafka-out', z: 'tab1', broker: 'broker', topic: o.topic, keyProperty: 'key', headersFromMsg: false, lingerMs: 5,
      maxBatchRecords: 500, maxQueued: 10000, retries: 100, deliveryTimeout: 120, flushTimeout: 5, wires: [] },
  ];
  if (o.simUrl) nodes.push({ id: 'gc', type: 'genesys-config', name: 'sim', region: 'custom', baseUrl: o.simUrl, scopes: '', refreshBuffer: 300, timeout: 15 });
  if (o.withWebhook !== false) {
    nodes.push({ id: 'in', z: 'tab1', type: 'genesys-webhook-in', path: '/hook', ack: 'delivery', ackTimeout: 1, settlements: 1, maxUnsettled: 10000,
      audience: AUD, issuer: 'genesys-cloud', clockTolerance: 5, wires: [['out']], ...o.webhook });
  }
  return nodes;
}
// A fresh object per load: the runtime keeps the object it is given and deletes removed nodes' entries from it.
const creds = () => ({ in: { secret: SECRET }, gc: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
const nodes = [webhookInit, settleInit, genesysConfigNode, brokerNode, kafkaOutNode];

/** Distinct event ids found in the topic, and how many records carried them. */
function eventIds(records: { value: string | null }[]): { ids: Set<string>; total: number } {
  const ids = new Set(records.map((r) => JSON.parse(String(r.value)).metadata.eventId as string));
  return { ids, total: records.length };
}

describe('genesys-webhook-in → kafka-out with the simulator push sender', function () {
  this.timeout(90000);
  let sim: GenesysSimulator;
  let token: string;
  const push = () => sim.state.push as PushState;
  before(startServer);
  beforeEach(async () => { ({ sim, accessToken: token } = await simulatorWithToken()); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });
  after(() => helper.stopServer());

  it('registers on deploy, every pushed event reaches the topic, updates on redeploy, deletes on removal', async () => {
    const topic = uniqueName('webhook-e2e');
    const flow = (filter: string) => pipeline({
      brokers: kafkaBrokers().join(','), topic, simUrl: sim.baseUrl,
      webhook: { register: true, genesys: 'gc', publicUrl: helper.url(), filter, batchSize: 25, maxRetries: 10, initialDelayMs: 100, maxDelayMs: 1000, backoffMultiplier: 2 },
    });
    await helper.load(nodes, flow("type == 'voice'"), creds());
    const node = helper.getNode('in') as any;
    await node.registering;
    const regs = (await api(sim, token, 'GET', '/api/v2/notifications')).body.entities;
    assert.equal(regs.length, 1);
    assert.equal(regs[0].target.url, `${helper.url()}/hook`);
    assert.equal(regs[0].audience, AUD);
    assert.equal(regs[0].batchSize, 25);

    for (let i = 0; i < 60; i++) {
      const c = sim.world.start(conversation({ mediaType: i % 4 === 3 ? 'chat' : 'voice' }), i % 10 === 0 ? { duplicate: true } : undefined);
      sim.world.update(c.id, { state: 'connected', agentId: 'a1', connectedTime: new Date().toISOString() });
      sim.world.update(c.id, { state: 'ended', endTime: new Date().toISOString() });
    }
    await push().idle(30000);
    const ledger = sim.ledger.byPath('push');
    assert.equal(ledger.length, 45 * 3, 'chats filtered out at the source');
    assert.ok(ledger.every((e) => e.delivered), 'every event acknowledged');
    const got = eventIds(await readBack(kafkaBrokers(), [topic], ledger.length + 5 * 1, 20000));
    assert.deepEqual([...got.ids].sort(), ledger.map((e) => e.eventId).sort(), 'topic holds exactly the acknowledged events');
    assert.equal(node.receiver.stats.authFailures, 0);

    // Redeploy with another filter: the same registration is updated.
    await helper.setFlows(flow("type == 'voice' && queue.id != null"), 'full', creds());
    await (helper.getNode('in') as any).registering;
    const after = (await api(sim, token, 'GET', '/api/v2/notifications')).body.entities;
    assert.equal(after.length, 1);
    assert.equal(after[0].id, regs[0].id);
    assert.equal(after[0].filter, "type == 'voice' && queue.id != null");

    // Node deleted from the flow: the registration goes too.
    await helper.setFlows(pipeline({ brokers: kafkaBrokers().join(','), topic, simUrl: sim.baseUrl, withWebhook: false }), 'full', creds());
    await sleep(300);
    assert.equal((await api(sim, token, 'GET', '/api/v2/notifications')).body.entities.length, 0);
  });

  it('Kafka stopped mid-stream: 503 + Retry-After, the sender retries, nothing lost after the restart', async () => {
    const kafka = await new KafkaServer().start();
    try {
      const topic = uniqueName('webhook-down');
      await helper.load(nodes, pipeline({ brokers: kafka.brokers, topic }), creds());
      const node = helper.getNode('in') as any;
      await node.ready;
      await api(sim, token, 'POST', '/api/v2/notifications', registration(`${helper.url()}/hook`, {
        batchSize: 20, concurrency: 4, retry: { maxRetries: 40, initialDelayMs: 200, maxDelayMs: 1000, backoffMultiplier: 2 },
      }));
      const burst = (n: number) => { for (let i = 0; i < n; i++) sim.world.start(conversation()); };
      burst(100);
      await push().idle(15000);
      assert.equal(node.receiver.stats.timedOut, 0, 'Kafka up: every request acknowledged in time');
      await kafka.stop();
      burst(100);
      const deadline = Date.now() + 15000;
      while (!push().attempts.some((a) => a.status === 503) && Date.now() < deadline) await sleep(50);
      const refused = push().attempts.find((a) => a.status === 503);
      assert.ok(refused, 'the webhook answered 503 while Kafka was down');
      assert.ok(refused.retryInMs! >= 1000, `Retry-After honoured (${refused.retryInMs} ms, backoff would be 200)`);
      assert.ok(node.receiver.stats.timedOut > 0);
      await kafka.launch();
      await push().idle(60000);
      const ledger = sim.ledger.byPath('push');
      assert.equal(ledger.length, 200);
      assert.ok(ledger.every((e) => e.delivered), 'the sender got a 2xx for every event in the end');
      const got = eventIds(await readBack([kafka.brokers], [topic], null, 30000, 3000));
      assert.deepEqual([...got.ids].sort(), ledger.map((e) => e.eventId).sort(), 'nothing lost: every ledger event is in the topic');
      console.log(`      ${got.total} records for ${got.ids.size} events: ${got.total - got.ids.size} redelivered duplicates for dedup to remove`);
    } finally {
      await helper.unload();
      await kafka.destroy();
    }
  });
});
