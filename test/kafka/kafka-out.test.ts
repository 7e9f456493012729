import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { freePort } from '../../harness/kafka';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack, valuesByKey } from './kafka-util';
import { brokerNode, kafkaOutNode, outFlow, collect, waitFor, statuses } from './node-support';

helper.init(require.resolve('node-red'));

describe('kafka-out node (real broker)', function () {
  this.timeout(60_000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  const brokers = (): string => kafkaBrokers().join(',');

  it('writes key, value and headers, keeps falsy payloads, emits msg.kafka after the ack and settles the delivery', async () => {
    const topic = uniqueName('kout-node');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic }));
    const acked = collect('acked');
    const caught = collect('caught');
    const { ids, result } = deliveryTracker.open(1, 20_000);
    const out = helper.getNode('out');
    out.receive({ payload: { conversation_id: 'c-1', state: 'connected' }, key: 'c-1', headers: { source: 'webhook', bin: Buffer.from('b') },
      genesys: { source: 'webhook', receivedAt: new Date().toISOString(), deliveryId: ids[0] } } as any);
    for (const payload of [0, false, '']) out.receive({ payload, key: 'c-2' } as any);
    out.receive({ payload: { conversation_id: 'c-3' } } as any); // no msg.key: the payload's conversation id
    await waitFor(() => acked.length === 5, 20_000, '5 acks');
    assert.equal(caught.length, 0);
    const r = await result;
    assert.equal(r.ok, true);
    assert.equal(r.outcomes.stored, 1);
    for (const m of acked) {
      assert.equal(m.kafka.topic, topic);
      assert.equal(typeof m.kafka.partition, 'number');
      assert.match(m.kafka.offset, /^\d+$/);
    }
    const read = await readBack(kafkaBrokers(), [topic], 5);
    const first = read.find((x) => x.key === 'c-1')!;
    assert.deepEqual(JSON.parse(first.value!), { conversation_id: 'c-1', state: 'connected' });
    assert.deepEqual(first.headers, { source: 'webhook', bin: 'b' });
    assert.deepEqual(read.filter((x) => x.key === 'c-2').map((x) => x.value).sort(), ['', '0', 'false']);
    assert.ok(read.some((x) => x.key === 'c-3'), 'keyed by payload.conversation_id');
    assert.ok(statuses('out').some((s) => s.fill === 'green'), 'green status once connected');
  });

  it('keeps per-key order for 10,000 messages through the node, each acked once', async () => {
    const topic = uniqueName('kout-node-order');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic, out: { maxBatchRecords: 1000, compression: 'gzip' } }));
    const acked = collect('acked');
    const out = helper.getNode('out');
    const n = 10_000;
    const t0 = Date.now();
    for (let i = 0; i < n; i++) out.receive({ payload: { seq: Math.floor(i / 10) }, key: `conv-${i % 10}` } as any);
    await waitFor(() => acked.length === n, 30_000, `${n} acks`);
    const ms = Date.now() - t0;
    console.log(`      [figure] kafka-out node: ${n} messages acked in ${ms} ms = ${Math.round(n / (ms / 1000))} msg/s`);
    const read = await readBack(kafkaBrokers(), [topic], n, 30_000);
    assert.equal(read.length, n);
    for (const [key, values] of valuesByKey(read)) {
      const seq = values.map((v) => JSON.parse(v).seq as number);
      assert.deepEqual(seq, Array.from({ length: n / 10 }, (_, i) => i), `order of ${key}`);
    }
  });

  it('answers bad input with done(err) seen by a Catch node: no payload, no topic, bad headers', async () => {
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic: '', out: { topicFromMsg: true } }));
    const caught = collect('caught');
    const out = helper.getNode('out');
    out.receive({ key: 'k', topic: 't' } as any);
    out.receive({ payload: 1, key: 'k' } as any);
    out.receive({ payload: 1, key: 'k', topic: uniqueName('t'), headers: 'nope' } as any);
    await waitFor(() => caught.length === 3, 5000, '3 caught');
    assert.match(caught[0].error.message, /msg.payload is missing/);
    assert.match(caught[1].error.message, /no Kafka topic/);
    assert.match(caught[2].error.message, /msg.headers must be an object/);
  });

  it('a broker with no brokers configured shows a red error status and fails messages through Catch, no crash', async () => {
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: '', topic: 'x' }));
    const caught = collect('caught');
    helper.getNode('out').receive({ payload: 'v', key: 'k' } as any);
    await waitFor(() => caught.length === 1, 5000, 'caught');
    assert.match(caught[0].error.message, /topic "x", key "k": Kafka configuration: no brokers configured/);
    assert.equal(caught[0].kafka.error.retriable, false);
    await waitFor(() => statuses('out').some((s) => s.fill === 'red' && /no brokers/.test(s.text ?? '')), 3000, 'red status');
  });

  it('without a kafka-broker every message is reported through done(err), none is swallowed', async () => {
    const flow = outFlow({ brokers: brokers(), topic: 'x' }).filter((n) => n.id !== 'broker');
    await helper.load([brokerNode, kafkaOutNode], flow);
    const caught = collect('caught');
    helper.getNode('out').receive({ payload: 'v', key: 'k' } as any);
    await waitFor(() => caught.length === 1, 5000, 'caught');
    assert.equal(caught[0].error.message, 'Error: kafka-out.errors.no-broker');
    assert.ok(statuses('out').some((st) => st.fill === 'red' && st.text === 'kafka-out.status.no-broker'));
  });

  it('an unreachable broker shows "broker unreachable" and fails messages after the retries with topic and key', async () => {
    const port = await freePort(); // nothing listens there
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: `127.0.0.1:${port}`, topic: 'x', out: { retries: 1, deliveryTimeout: 3 } }));
    const caught = collect('caught');
    const acked = collect('acked');
    helper.getNode('out').receive({ payload: { a: 1 }, key: 'conv-9' } as any);
    await waitFor(() => statuses('out').some((s) => s.fill === 'red' && s.shape === 'ring' && /unreachable/.test(s.text ?? '')), 10_000, 'unreachable status');
    await waitFor(() => caught.length === 1, 15_000, 'caught');
    assert.equal(acked.length, 0);
    assert.match(caught[0].error.message, /topic "x", key "conv-9": .*(ECONNREFUSED|Connection error)/);
    assert.equal(caught[0].kafka.error.retriable, true);
  });

  it('a full queue makes messages wait with a "queue full" status, and every one is still settled', async () => {
    const port = await freePort();
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: `127.0.0.1:${port}`, topic: 'x', out: { maxQueued: 5, maxBatchRecords: 5, retries: 2, deliveryTimeout: 2 } }));
    const caught = collect('caught');
    for (let i = 0; i < 20; i++) helper.getNode('out').receive({ payload: i, key: `k${i}` } as any);
    await waitFor(() => statuses('out').some((st) => st.fill === 'yellow' && /^kafka-out.status.queue-full \(15\)$/.test(st.text ?? '')), 5000, 'queue-full status');
    await waitFor(() => caught.length === 20, 20_000, 'all 20 reported');
    assert.deepEqual(caught.map((m) => m.payload).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  });

  it('a topic that cannot exist fails only its messages (invalid name), others still go through', async () => {
    const good = uniqueName('kout-good');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic: good, out: { topicFromMsg: true, lingerMs: 50 } }));
    const caught = collect('caught');
    const acked = collect('acked');
    const out = helper.getNode('out');
    out.receive({ payload: 1, key: 'a' } as any);
    out.receive({ payload: 2, key: 'b', topic: 'bad topic name!' } as any);
    out.receive({ payload: 3, key: 'c' } as any);
    await waitFor(() => caught.length + acked.length === 3, 20_000, 'all settled');
    assert.equal(acked.length, 2);
    assert.equal(caught.length, 1);
    assert.match(caught[0].error.message, /topic "bad topic name!", key "b"/);
  });

  it('topic creation that the cluster refuses (replication factor 3 on one broker) is an error through Catch', async () => {
    const topic = uniqueName('kout-rf3');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic, broker: { autoCreateTopics: true, topicPartitions: 2, topicReplicationFactor: 3 } }));
    const caught = collect('caught');
    helper.getNode('out').receive({ payload: 'v', key: 'k' } as any);
    await waitFor(() => caught.length === 1, 15_000, 'caught');
    assert.match(caught[0].error.message, /topic creation failed/i);
    assert.match(caught[0].error.message, /replication/i);
  });

  it('creates a missing topic with the configured partitions when asked to', async () => {
    const topic = uniqueName('kout-create');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic, broker: { autoCreateTopics: true, topicPartitions: 5, topicReplicationFactor: 1 } }));
    const acked = collect('acked');
    for (let i = 0; i < 20; i++) helper.getNode('out').receive({ payload: i, key: `k${i}` } as any);
    await waitFor(() => acked.length === 20, 15_000, 'acks');
    assert.equal(new Set(acked.map((m) => m.kafka.partition)).size > 1, true);
    assert.ok(acked.every((m) => m.kafka.partition < 5));
  });

  it('redeploy with messages in flight: the old node flushes before it closes, nothing is lost', async () => {
    const topic = uniqueName('kout-redeploy');
    const flow = outFlow({ brokers: brokers(), topic, out: { lingerMs: 20, maxBatchRecords: 100 } });
    await helper.load([brokerNode, kafkaOutNode], flow);
    const acked = collect('acked');
    const caught = collect('caught');
    const n = 3000;
    for (let i = 0; i < n; i++) helper.getNode('out').receive({ payload: { i }, key: `c${i % 10}` } as any);
    // Change kafka-out: Node-RED closes the old instance (flush) and starts a new one.
    const changed = flow.map((node) => (node.id === 'out' ? { ...node, lingerMs: 1 } : node));
    await helper.setFlows(changed, 'nodes');
    assert.equal(acked.length + caught.length, n, 'every message settled before the close finished');
    assert.equal(caught.length, 0);
    const read = await readBack(kafkaBrokers(), [topic], n, 30_000);
    assert.equal(new Set(read.map((r) => JSON.parse(r.value!).i)).size, n);
    // A full redeploy restarts the broker node too: its producer closes only after the users flushed.
    // (Downstream helper and Catch nodes stop at the same time, so Kafka itself is the witness.)
    for (let i = n; i < 2 * n; i++) helper.getNode('out').receive({ payload: { i }, key: `c${i % 10}` } as any);
    await helper.setFlows(changed.map((node) => (node.id === 'broker' ? { ...node, clientId: 'changed' } : node)), 'full');
    const read2 = await readBack(kafkaBrokers(), [topic], 2 * n, 30_000);
    assert.equal(new Set(read2.map((r) => JSON.parse(r.value!).i)).size, 2 * n);
    // The new instances work.
    const acked3 = collect('acked');
    helper.getNode('out').receive({ payload: 'after', key: 'z' } as any);
    await waitFor(() => acked3.length === 1, 10_000, 'ack after redeploy');
  });

  it('the broker fans its connection status out to users that do not draw their own, like core MQTT', async () => {
    const port = await freePort();
    await helper.load([brokerNode, kafkaOutNode], [
      { id: 'live', type: 'kafka-broker', brokers: brokers(), connectionTimeout: 1000 },
      { id: 'dead', type: 'kafka-broker', brokers: `127.0.0.1:${port}`, connectionTimeout: 500 },
    ]);
    const seen: Record<string, any[]> = { live: [], dead: [] };
    for (const id of ['live', 'dead']) {
      const broker = helper.getNode(id) as any;
      const user = { id: `user-${id}`, status: (st: any) => seen[id].push(st) };
      broker.acquire(user).send({ topic: uniqueName('fan'), key: 'k', value: 'v' }).catch(() => undefined);
    }
    await waitFor(() => seen.live.some((st) => st.text === 'node-red:common.status.connected'), 10_000, 'connected fan-out');
    await waitFor(() => seen.dead.some((st) => st.fill === 'red' && st.text === 'kafka-broker.status.unreachable'), 10_000, 'unreachable fan-out');
    assert.equal(seen.live[0].text, 'node-red:common.status.connecting');
    for (const id of ['live', 'dead']) await (helper.getNode(id) as any).release({ id: `user-${id}`, status: () => undefined }, 100);
  });

  it('the editor test-connection endpoint answers ok for a live broker and a clear error otherwise', async () => {
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: brokers(), topic: 'x' }));
    const ok = await helper.request().post('/kafka-broker/test').send({ brokers: brokers() }).expect(200);
    assert.equal(ok.body.ok, true);
    assert.ok(ok.body.brokers.length >= 1);
    const port = await freePort();
    const bad = await helper.request().post('/kafka-broker/test').send({ brokers: `127.0.0.1:${port}`, connectionTimeout: 500 }).expect(200);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.error, /ECONNREFUSED|Connection error|connect/i);
    const none = await helper.request().post('/kafka-broker/test').send({}).expect(200);
    assert.deepEqual(none.body, { ok: false, error: 'no brokers configured' });
  });
});
