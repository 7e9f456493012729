// The poll node into a real Kafka topic: the simulator's ledger and the topic must match event for
// event across a restart of the flow in the middle of the traffic.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import { TrafficGenerator } from '../../simulator/traffic';
import type { EventStreamsState } from '../../simulator/routes/eventstreams';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';
import configInit = require('../../nodes/genesys-config/genesys-config');
import pollInit = require('../../nodes/genesys-eventstream-poll/genesys-eventstream-poll');
import { waitFor } from './support';

const brokerInit = require('../../nodes/kafka-broker/kafka-broker');
const kafkaOutInit = require('../../nodes/kafka-out/kafka-out');

helper.init(require.resolve('node-red'));

describe('genesys-eventstream-poll → kafka-out (real broker)', function () {
  this.timeout(150_000);
  let sim: GenesysSimulator;
  let dir: string;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => { sim = new GenesysSimulator(); await sim.start(); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-kafka-')); });
  afterEach(async () => { await helper.unload(); await sim.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  const load = (streamId: string, topic: string) => helper.load([configInit, pollInit, brokerInit, kafkaOutInit], [
    { id: 'tab', type: 'tab' },
    { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 },
    { id: 'broker', type: 'kafka-broker', brokers: kafkaBrokers().join(','), clientId: 'poll-test', connectionTimeout: 1000, requestTimeout: 5000 },
    { id: 'p1', type: 'genesys-eventstream-poll', z: 'tab', x: 1, y: 1, genesys: 'c1', mode: 'eventstream', streamId, interval: 0.1, pageSize: 500,
      ack: 'delivery', ackTimeout: 20, store: 'file', cursorFile: path.join(dir, 'cursor.json'), wires: [['out']] },
    { id: 'out', type: 'kafka-out', z: 'tab', x: 1, y: 1, broker: 'broker', topic, keyProperty: 'key', headersFromMsg: false, lingerMs: 5,
      maxBatchRecords: 1000, maxQueued: 20000, retries: 3, deliveryTimeout: 30, flushTimeout: 10, wires: [] },
  ], { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });

  it('every ledger event reaches the topic, keyed by conversation, across a restart; the cursor saved after the acks', async () => {
    const topic = uniqueName('poll-kafka');
    const streams = sim.state.eventstreams as EventStreamsState;
    const stream = streams.createStream('kafka', [{ entityType: 'interaction', eventType: 'created' }, { entityType: 'interaction', eventType: 'updated' }]);
    const traffic = new TrafficGenerator(sim.world, { seed: 3, timeFactor: 0.001 });
    traffic.generate(1500);
    const t0 = Date.now();
    await load(stream.subscription.id, topic);
    const cursorFile = path.join(dir, 'cursor.json');
    await waitFor(() => fs.existsSync(cursorFile) && !!JSON.parse(fs.readFileSync(cursorFile, 'utf8')).cursor, 20_000, 'a page acked and its cursor saved');
    await helper.unload(); // restart mid-traffic
    traffic.generate(1500);
    traffic.finish();
    await load(stream.subscription.id, topic);
    const ledger = sim.ledger.byPath('eventstream');
    // Re-read until every ledger event is there (a re-emitted page adds records, so a count alone can stop early).
    let records: Awaited<ReturnType<typeof readBack>> = [];
    let missing = ledger;
    for (const deadline = Date.now() + 90_000; missing.length && Date.now() < deadline;) {
      records = await readBack(kafkaBrokers(), [topic], ledger.length + 500, 10_000);
      const ids = new Set(records.map((r) => JSON.parse(r.value!).id as string));
      missing = ledger.filter((e) => !ids.has(e.eventId));
    }
    const ms = Date.now() - t0;
    assert.deepEqual(missing, [], 'no gap');
    assert.ok(records.length - ledger.length <= 500, `at most one page again after the restart (${records.length - ledger.length} extra)`);
    for (const r of records) assert.equal(r.key, JSON.parse(r.value!).entity.id, 'keyed by the interaction id');
    console.log(`      [figure] event stream poll → Kafka: ${ledger.length} events in ${ms} ms including a restart (${Math.round(ledger.length / (ms / 1000))} ev/s)`);
  });
});
