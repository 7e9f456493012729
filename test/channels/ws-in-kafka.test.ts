// Two genesys-ws-in nodes (active-active) → dedup → kafka-out → a real Kafka topic, while the
// simulator closes sockets for maintenance, expires channels every couple of seconds, expires
// tokens mid-socket and drops sockets: the topic holds every delivered event exactly once.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import helper from 'node-red-node-test-helper';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { TrafficGenerator } from '../../simulator/traffic';
import configInit = require('../../nodes/genesys-config/genesys-config');
import wsInInit = require('../../nodes/genesys-ws-in/genesys-ws-in');
import { kafkaBrokers, redisUrl, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import { bodyKey, delay, waitFor } from './support';

const dedupInit = require('../../nodes/dedup/dedup');
const brokerInit = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutInit = require('../../nodes/kafka-out/kafka-out');

const QUEUES = [{ id: 'q-sales', name: 'Sales' }, { id: 'q-support', name: 'Support' }];

describe('genesys-ws-in ×2 → dedup → kafka-out (real Kafka)', function () {
  this.timeout(40_000);
  let sim: GenesysSimulator;
  let traffic: TrafficGenerator | null = null;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => {
    delete process.env.GENESYS_QUEUE_IDS;
    await traffic?.stop();
    await helper.unload();
    await sim?.stop();
  });

  it('socket_closing, channel expiry, token expiry and drops: every delivered event is in the topic exactly once', async () => {
    sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0, channelLifetimeSeconds: 2, tokenLifetimeSeconds: 2 });
    await sim.start();
    const st = sim.state.channels as ChannelsState;
    const topic = uniqueName('ws-in-e2e');
    const wsIn = (id: string) => ({
      id, type: 'genesys-ws-in', z: 'tab', x: 1, y: 1, genesys: 'c1', mode: 'channels', queueIds: QUEUES.map((q) => q.id).join(','), queueIdsType: 'str',
      userIds: '', userIdsType: 'str', topics: '', maxChannels: 10, idleTimeout: 1, reconnectMax: 0.4, backfill: true, janitor: false, wires: [['dedup']],
    });
    await helper.load([configInit, wsInInit, dedupInit, brokerInit, kafkaOutInit], [
      { id: 'tab', type: 'tab' },
      { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 1, timeout: 5 },
      wsIn('wsA'), wsIn('wsB'),
      { id: 'dedup', type: 'dedup', z: 'tab', x: 1, y: 1, keyMode: 'auto', window: 300, store: 'memory', maxEntries: 100000, duplicates: 'drop', wires: [['out'], [], []] },
      { id: 'broker', type: 'kafka-broker', name: 'k', brokers: kafkaBrokers().join(','), clientId: 'ws-in-e2e', connectionTimeout: 1000, requestTimeout: 5000, autoCreateTopics: true, topicPartitions: 3, topicReplicationFactor: 1 },
      { id: 'out', type: 'kafka-out', z: 'tab', x: 1, y: 1, broker: 'broker', topic, keyProperty: 'key', headersFromMsg: false, lingerMs: 5,
        maxBatchRecords: 500, maxQueued: 10000, retries: 10, deliveryTimeout: 30, flushTimeout: 5, wires: [['acked']] },
      { id: 'acked', type: 'helper', z: 'tab', x: 1, y: 1 },
      { id: 'catcher', type: 'catch', z: 'tab', x: 1, y: 1, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 1, y: 1 },
    ], { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
    let acked = 0;
    const caught: any[] = [];
    helper.getNode('acked').on('input', () => { acked++; });
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    await waitFor(() => st.list().filter((c) => c.socket).length === 2, 5000, 'both listeners connected');

    traffic = new TrafficGenerator(sim.world, { seed: 3, ratePerSecond: 100, timeFactor: 0.003, queues: QUEUES, agents: 6, maxConcurrent: 20 });
    traffic.start();
    await delay(700);
    st.sendSocketClosing(st.list().find((c) => c.socket)!.id, 1500);
    await delay(900);
    st.dropSocket(st.list().find((c) => c.socket)!.id);
    await delay(900);
    st.dropSocket(st.list().find((c) => c.socket)!.id);
    await delay(900);
    await traffic.stop({ finish: true });
    traffic = null;

    const ledger = sim.ledger.byPath('notification').filter((e) => e.delivered);
    assert.ok(ledger.length > 200, `only ${ledger.length} events`);
    assert.ok(st.counts.created >= 5, `only ${st.counts.created} channels: no rollovers`);
    assert.ok(sim.count('POST /oauth/token') >= 2, 'the token expired and was renewed mid-socket');
    let stableAt = Date.now();
    let last = -1;
    await waitFor(() => { if (acked !== last) { last = acked; stableAt = Date.now(); } return Date.now() - stableAt > 1000; }, 15_000, 'kafka-out to settle');
    const records = await readBack(kafkaBrokers(), [topic], acked, 15_000);
    assert.equal(records.length, acked);
    const counts = new Map<string, number>();
    for (const r of records) { const k = bodyKey(JSON.parse(String(r.value))); counts.set(k, (counts.get(k) ?? 0) + 1); }
    const missing = ledger.filter((e) => !counts.has(bodyKey(e.payload as { id: string }))).map((e) => e.eventId);
    assert.deepEqual(missing, []);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, []);
    assert.ok(records.every((r) => r.key && JSON.parse(String(r.value)).id === r.key));
    assert.deepEqual(caught.map((m) => m.error?.message), []);
  });

  it('the active-active example flow (patched to the simulator) puts each event into Kafka once', async () => {
    sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0 });
    await sim.start();
    const st = sim.state.channels as ChannelsState;
    const topic = uniqueName('ws-in-example');
    const prefix = `${uniqueName('ws-example')}:`;
    process.env.GENESYS_QUEUE_IDS = QUEUES.map((q) => q.id).join(',');
    process.env.REDIS_URL = redisUrl();
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, 'flows', 'genesys-ws-in-active-active.json'), 'utf8')) as any[];
    // comment nodes are core nodes the test helper does not load.
    const flow = [{ id: 'tab', type: 'tab' }, ...example.filter((n) => n.type !== 'comment').map((n) => {
      const node = { ...n, ...(n.x !== undefined ? { z: 'tab' } : {}) };
      if (n.type === 'genesys-config') Object.assign(node, { region: 'custom', baseUrl: sim.baseUrl });
      if (n.type === 'genesys-ws-in') Object.assign(node, { idleTimeout: 1, reconnectMax: 0.4, janitorPrefix: `${prefix}janitor:` });
      if (n.type === 'dedup') node.keyPrefix = `${prefix}dedup:`;
      if (n.type === 'kafka-broker') Object.assign(node, { autoCreateTopics: true, connectionTimeout: 1000, requestTimeout: 5000 });
      if (n.type === 'kafka-out') Object.assign(node, { topic, wires: [['acked']] });
      if (n.type === 'debug') node.type = 'helper';
      return node;
    }), { id: 'acked', type: 'helper', z: 'tab', x: 1, y: 1 }];
    const gcId = example.find((n) => n.type === 'genesys-config').id;
    await helper.load([configInit, wsInInit, dedupInit, brokerInit, kafkaOutInit], flow, { [gcId]: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
    let acked = 0;
    helper.getNode('acked').on('input', () => { acked++; });
    await waitFor(() => st.list().filter((c) => c.socket).length === 2, 5000, 'both listeners connected');
    traffic = new TrafficGenerator(sim.world, { seed: 9, ratePerSecond: 60, timeFactor: 0.003, queues: QUEUES, agents: 4, maxConcurrent: 10 });
    traffic.start();
    await delay(1200);
    st.dropSocket(st.list().find((c) => c.socket)!.id);
    await delay(600);
    await traffic.stop({ finish: true });
    traffic = null;
    const ledger = sim.ledger.byPath('notification').filter((e) => e.delivered);
    await waitFor(() => acked >= new Set(ledger.map((e) => e.eventId)).size * 0.9, 10_000, 'most events acked');
    await delay(1000);
    const records = await readBack(kafkaBrokers(), [topic], acked, 15_000);
    const counts = new Map<string, number>();
    for (const r of records) { const k = bodyKey(JSON.parse(String(r.value))); counts.set(k, (counts.get(k) ?? 0) + 1); }
    assert.deepEqual(ledger.filter((e) => !counts.has(bodyKey(e.payload as { id: string }))).map((e) => e.eventId), []);
    assert.deepEqual([...counts].filter(([, n]) => n > 1), []);
    await helper.unload();
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });
});
