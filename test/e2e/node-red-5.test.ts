// The package on Node-RED 5 (which needs Node >= 22.9) while the suite itself runs on Node 20: Node 22
// and node-red@5 come from the npm registry into .cache/node22 (harness/node22.ts; cached after the
// first run), a headless Node-RED 5 loads dist/ from a private userDir, every node type must register,
// and a deployed flow (inject → normalize → kafka-out, genesys-ws-in on the simulator → normalize) must
// put every event into a real Kafka topic.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureNodeRed5, type Node22Runtime } from '../../harness/node22';
import { NodeRedProcess } from '../../harness/node-red';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { TrafficGenerator } from '../../simulator/traffic';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { readBack } from '../kafka/kafka-util';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const QUEUES = [{ id: 'q-sales', name: 'Sales' }, { id: 'q-support', name: 'Support' }];

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Node-RED 5 on Node 22 (from the npm registry)', function () {
  this.timeout(60_000);
  let rt: Node22Runtime;
  let red: NodeRedProcess | null = null;
  let sim: GenesysSimulator | null = null;
  let traffic: TrafficGenerator | null = null;

  before(async function () {
    // The first run downloads about 50 MB from the registry; the bound is harness/node22.ts's.
    this.timeout(200_000);
    for (const file of Object.values<string>(pkg['node-red'].nodes)) {
      assert.ok(fs.existsSync(path.join(root, file)), `${file} missing: build dist/ first (node scripts/build.js)`);
    }
    rt = await ensureNodeRed5({ log: (l) => console.log(`      [node22] ${l}`) });
    sim = new GenesysSimulator({ heartbeatMs: 1000, rateLimitPerMinute: 0 });
    await sim.start();
    red = await new NodeRedProcess({ nodeBinary: rt.nodeBinary, redScript: rt.redScript, flows: [], env: { KAFKA_BROKERS: kafkaBrokers().join(',') } }).start();
  });

  after(async () => {
    await traffic?.stop();
    await red?.destroy();
    await sim?.stop();
  });

  it('runs Node-RED 5 under Node 22', async () => {
    assert.match(rt.nodeVersion, /^v22\./);
    assert.match(rt.nodeRedVersion, /^5\./);
    const settings = await (await fetch(`${red!.url}/settings`)).json() as { version: string };
    assert.equal(settings.version, rt.nodeRedVersion);
    assert.match(red!.log, /Node\.js\s+version: v22\./);
  });

  it('registers every node type in package.json with no error', async () => {
    const res = await fetch(`${red!.url}/nodes`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = await res.json() as { module: string; types: string[]; enabled: boolean; err?: string }[];
    const ours = sets.filter((s) => s.module === pkg.name);
    for (const s of ours) assert.equal(s.err, undefined, `${s.types.join(',')}: ${s.err}`);
    assert.ok(ours.every((s) => s.enabled));
    const types = ours.flatMap((s) => s.types);
    assert.deepEqual(Object.keys(pkg['node-red'].nodes).filter((t) => !types.includes(t)), [], 'types not registered');
    assert.doesNotMatch(red!.log, /\[error\]|Cannot find module/);
  });

  it('a deployed flow puts injected and genesys-ws-in events into Kafka through normalize', async () => {
    const topic = uniqueName('nr5-e2e');
    const conversationId = uniqueName('conv-nr5');
    const pushEvent = {
      data: { conversationId, type: 'voice', state: 'connected', direction: 'inbound', timestamp: new Date().toISOString(),
        queue: { id: 'q-support', name: 'Support' }, agent: { id: 'u-ann', name: 'Ann Agent' }, customer: { channelId: 'tel:+15551230001' } },
      metadata: { eventId: uniqueName('evt-nr5'), sequence: 1, subscriptionId: 'sub-1', deliveryAttempt: 1, publishedAt: new Date().toISOString() },
    };
    const at = (n: Record<string, unknown>) => ({ z: 'tab', x: 100, y: 100, ...n });
    await red!.deploy([
      { id: 'tab', type: 'tab', label: 'nr5' },
      at({ id: 'inj', type: 'inject', once: false, repeat: '', topic: '',
        props: [{ p: 'payload', v: JSON.stringify(pushEvent), vt: 'json' }, { p: 'genesys', v: JSON.stringify({ source: 'webhook', receivedAt: new Date().toISOString() }), vt: 'json' }],
        wires: [['norm']] }),
      { id: 'gc', type: 'genesys-config', name: 'sim', region: 'custom', baseUrl: sim!.baseUrl, refreshBuffer: 300, timeout: 5,
        credentials: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } },
      at({ id: 'ws', type: 'genesys-ws-in', genesys: 'gc', mode: 'channels', queueIds: QUEUES.map((q) => q.id).join(','), queueIdsType: 'str',
        userIds: '', userIdsType: 'str', topics: '', maxChannels: 2, idleTimeout: 5, reconnectMax: 1, backfill: true, janitor: false, wires: [['norm']] }),
      // Nothing on the error output: a failed normalization would reach the log as an [error].
      at({ id: 'norm', type: 'normalize', shape: 'auto', rawOutput: false, outputs: 2, wires: [['out'], []] }),
      // ${KAFKA_BROKERS}: a whole-value environment reference, as a headless deployment would configure it.
      { id: 'kb', type: 'kafka-broker', name: 'test', brokers: '${KAFKA_BROKERS}', clientId: 'nr5-e2e', connectionTimeout: 3000, requestTimeout: 10000,
        autoCreateTopics: true, topicPartitions: 1, topicReplicationFactor: 1 },
      at({ id: 'out', type: 'kafka-out', broker: 'kb', topic, keyProperty: 'key', headersFromMsg: false, compression: 'none', lingerMs: 5,
        maxBatchRecords: 500, maxQueued: 10000, retries: 10, deliveryTimeout: 30, flushTimeout: 5, wires: [[]] }),
    ]);
    const channels = sim!.state.channels as ChannelsState;
    await waitFor(() => channels.list().some((c) => c.socket), 15_000, 'genesys-ws-in to connect its channel');

    const inject = await fetch(`${red!.url}/inject/inj`, { method: 'POST' });
    assert.equal(inject.status, 200);
    traffic = new TrafficGenerator(sim!.world, { seed: 5, ratePerSecond: 40, timeFactor: 0.003, queues: QUEUES, agents: 4, maxConcurrent: 8 });
    traffic.start();
    await new Promise((r) => setTimeout(r, 1500));
    await traffic.stop({ finish: true });
    traffic = null;

    const delivered = sim!.ledger.byPath('notification').filter((e) => e.delivered);
    assert.ok(delivered.length >= 20, `only ${delivered.length} notification events delivered`);
    const expected = delivered.length + 1;
    const records = await readBack(kafkaBrokers(), [topic], expected, 20_000);
    assert.ok(records.length >= expected, `${records.length} of ${expected} events in ${topic}`);
    const keys = new Set(records.map((r) => r.key));
    assert.ok(keys.has(conversationId), 'the injected event is missing');
    const conversations = new Set(delivered.map((e) => (e.payload as { id: string }).id));
    assert.deepEqual([...conversations].filter((id) => !keys.has(id)), [], 'conversations missing from Kafka');
    for (const r of records) {
      const v = JSON.parse(String(r.value));
      assert.equal(v.conversation_id, r.key);
      assert.ok(v.event_id, 'normalized events carry event_id');
    }
    assert.doesNotMatch(red!.log, /\[error\]/);
  });
});
