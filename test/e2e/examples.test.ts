// Every example flow in flows/ deployed, unchanged but for the noted test timings, into a real headless
// Node-RED that loads the compiled package (dist/: `node scripts/build.js`, done by pretest), against the
// Genesys simulator with live traffic, the real Kafka (KAFKA_BROKERS) and Redis (REDIS_URL). Each example
// must get its events into the topics it promises. Deploys go through the admin API, like the editor's
// Import + Deploy: that is how the ${VAR} credentials of the examples reach the runtime.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { NodeRedProcess } from '../../harness/node-red';
import { buildDeadLetter } from '../../lib/kafka/dlq-record';
import { ingestState } from '../../simulator/routes/ingest';
import { kafkaBrokers, redisUrl, uniqueName } from '../fixtures/env';
import { editorDefinitions } from './support/editor-defaults';
import { exampleFiles, loadExample, pkg, startExampleEnv, type ExampleEnv, type FlowNode } from './support/example-env';
import { RecordCollector, type SeenRecord } from './support/kafka-records';

const REDIS_PREFIXES = ['genesys:dedup:active-active:', 'genesys:dedup:pipeline:'];

/** Test timings only: poll nodes every 2 s instead of 10-60 s. Everything else as shipped. */
function forTest(flow: FlowNode[]): FlowNode[] {
  return flow.map((n) => (n.type === 'genesys-eventstream-poll' ? { ...n, interval: 2 } : n));
}

describe('example flows in a real Node-RED with the simulator, Kafka and Redis', function () {
  this.timeout(180_000);
  let ex: ExampleEnv;
  let red: NodeRedProcess;
  let kafka: RecordCollector;
  let mark = 0;
  let logFromDeploy = 0;

  const normalized = (source: string | string[]) => (r: SeenRecord): boolean =>
    ex.ours(r.key) && ([] as string[]).concat(source).includes(r.json?.source) && r.json?.conversation_id === r.key;

  async function deploy(file: string, transform: (f: FlowNode[]) => FlowNode[] = forTest): Promise<FlowNode[]> {
    const flow = transform(loadExample(file));
    mark = kafka.records.length;
    const logFrom = red.logLines.length;
    logFromDeploy = logFrom;
    await red.deploy(flow);
    // A full deploy stops the old flows and starts the new ones: wait for this deploy's "Started flows".
    const deadline = Date.now() + 20_000;
    while (!red.logLines.slice(logFrom).some((l) => /Started flows/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return flow;
  }

  /** [error] lines Node-RED logged since the last deploy (config problems show up here). */
  function errorsSinceDeploy(): string[] {
    return red.logLines.slice(logFromDeploy).filter((l) => /\[error\]/.test(l));
  }

  afterEach(function () {
    // A failing example: show what Node-RED said since its deploy.
    if (this.currentTest?.state === 'failed' && red) console.log(red.logLines.slice(logFromDeploy).slice(-40).join('\n'));
  });

  before(async () => {
    ex = await startExampleEnv({ malformedRate: 0.02 });
    kafka = new RecordCollector(kafkaBrokers());
    await kafka.start();
    red = await new NodeRedProcess({ port: ex.port, env: ex.env, flows: [] }).start();
    ex.traffic.start();
  });

  after(async () => {
    await red?.destroy();
    await kafka?.stop();
    await ex?.stop();
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for (const prefix of REDIS_PREFIXES) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('every node type of the package appears in some example, and every example is one tab with a comment', () => {
    const files = exampleFiles();
    assert.ok(files.includes('complete-pipeline.json'), 'npm start deploys flows/complete-pipeline.json');
    const used = new Set<string>();
    for (const file of files) {
      const flow = loadExample(file);
      const tabs = flow.filter((n) => n.type === 'tab');
      assert.equal(tabs.length, 1, `${file}: one tab`);
      assert.ok(flow.some((n) => n.type === 'comment' && n.z === tabs[0].id && n.name), `${file}: a comment explains the flow`);
      for (const n of flow) {
        used.add(n.type);
        if (n.type === 'genesys-config') {
          assert.deepEqual(n.credentials, { clientId: '${GENESYS_CLIENT_ID}', clientSecret: '${GENESYS_CLIENT_SECRET}' }, `${file}: credentials from the environment`);
          assert.equal(n.region, '${GENESYS_REGION}');
        }
        if (n.type === 'kafka-broker') assert.equal(n.brokers, '${KAFKA_BROKERS}');
        if (n.type === 'kafka-out' || n.type === 'dlq') assert.match(n.topic, /^genesys\./, `${file}: ${n.id} topic starts with genesys.`);
        for (const w of (n.wires ?? []).flat()) assert.ok(flow.some((m) => m.id === w), `${file}: ${n.id} wired to missing ${w}`);
      }
    }
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `${type} is in no example`);
  });

  it('example nodes carry exactly the properties their editor defines (no stale or missing settings)', () => {
    const types = Object.keys(pkg['node-red'].nodes);
    const defs = editorDefinitions(types);
    const structural = new Set(['id', 'type', 'z', 'x', 'y', 'wires', 'credentials', 'g', 'd']);
    for (const file of exampleFiles()) {
      for (const n of loadExample(file).filter((m) => types.includes(m.type))) {
        const def = defs[n.type];
        assert.ok(def, `${n.type}: no editor definition`);
        const missing = Object.keys(def.defaults).filter((k) => !(k in n));
        const unknown = Object.keys(n).filter((k) => !structural.has(k) && !(k in def.defaults));
        assert.deepEqual({ missing, unknown }, { missing: [], unknown: [] }, `${file}: ${n.id} (${n.type})`);
        for (const c of Object.keys(n.credentials ?? {})) assert.ok(def.credentials.includes(c), `${file}: ${n.id} credential ${c}`);
      }
    }
  });

  it('push: webhook → dedup → normalize → genesys.interactions, raw copy in genesys.raw, malformed events in genesys.dlq', async () => {
    await deploy('push-webhook-to-kafka.json');
    const norm = await kafka.waitFor('genesys.interactions', normalized('webhook'), 10, mark, 20_000, 'push normalized');
    assert.ok(norm.every((r) => r.json.interaction_type === 'voice'), 'the registration filter (voice only) applies');
    await kafka.waitFor('genesys.raw', (r) => ex.ours(r.key) && r.json?.metadata?.eventId?.startsWith(r.key), 10, mark, 10_000, 'push raw');
    // A malformed push body has no conversation id: it is traced by its event id.
    const dead = await kafka.waitFor('genesys.dlq', (r) => r.headers['dlq.genesys.source'] === 'webhook' && ex.ours(String(r.json?.metadata?.eventId).split(':')[0]), 1, mark, 20_000, 'push dead letters');
    assert.equal(dead[0].headers['dlq.reason'], 'validation');
    // Every POST was answered 200 at once: each event was settled twice (raw write + stored, dropped
    // as a repeat or dead-lettered) before the webhook's delivery timeout.
    const push = ex.sim.state.push;
    assert.ok(push.stats.delivered > 0, 'the simulator saw 2xx answers');
    const answers = push.attempts.map((a: { status: number | string }) => a.status);
    assert.deepEqual([...new Set(answers)], [200], `answers ${JSON.stringify(answers.filter((a: unknown) => a !== 200).slice(0, 5))}`);
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('notification channels: queue and user topics → genesys.interactions', async () => {
    await deploy('notification-channels.json');
    const got = await kafka.waitFor('genesys.interactions', normalized(['notification', 'backfill']), 10, mark, 20_000, 'channels');
    // One record per change although each change came on a queue topic and on the agent's user topic.
    const keys = got.map((r) => `${r.json.event_id}:${r.json.sequence}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate event_id:sequence');
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('realtime analytics → genesys.analytics', async () => {
    await deploy('realtime-analytics.json');
    await kafka.waitFor('genesys.analytics', normalized('analytics-ws'), 10, mark, 20_000, 'analytics');
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('event stream poll → genesys.interactions', async () => {
    await deploy('event-stream-poll.json');
    await kafka.waitFor('genesys.interactions', normalized('eventstream'), 5, mark, 25_000, 'event stream');
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('conversation details query → genesys.interactions', async () => {
    await deploy('conversation-details-query.json');
    await kafka.waitFor('genesys.interactions', normalized('details-query'), 5, mark, 20_000, 'details query');
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('active-active listeners: every change once in genesys.interactions although both listeners delivered it', async () => {
    await deploy('active-active-listeners.json');
    await kafka.waitFor('genesys.interactions', normalized('notification'), 3, mark, 20_000, 'active-active warm-up');
    // Both listeners are up: a fixed burst of changes, then count what each side saw.
    await ex.traffic.stop();
    await kafka.settle(800);
    const counts = ex.sim.state.channels.counts;
    const delivered0 = counts.delivered;
    const from = kafka.records.length;
    await ex.traffic.runFor(150);
    await kafka.settle(1200);
    ex.traffic.start();
    const copies = counts.delivered - delivered0;
    const stored = kafka.select('genesys.interactions', normalized(['notification', 'backfill']), from).length
      + kafka.select('genesys.dlq', (r) => ex.ours(r.key), from).length;
    assert.ok(copies > 50, `the simulator delivered ${copies} copies`);
    // Each change reached both listeners: about half the copies are stored, none twice, none lost.
    assert.ok(stored >= copies * 0.4 && stored <= copies * 0.6, `${stored} records for ${copies} copies from two listeners`);
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys('genesys:dedup:active-active:*');
      assert.ok(keys.length > 0, 'dedup keys are in Redis');
    } finally {
      redis.disconnect();
    }
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('dlq replay: dead letters go back to genesys.interactions (re-normalized or as they were) and genesys.raw', async () => {
    const startedAt = new Date(Date.now() - 1000).toISOString();
    // Three dead letters as the pipelines write them: a push event normalize refused, a normalized event
    // and a raw event Kafka refused.
    const [k1, k2, k3] = [randomUUID(), randomUUID(), randomUUID()];
    const now = new Date().toISOString();
    const push = { data: { conversationId: k1, type: 'chat', state: 'connected', direction: 'inbound', timestamp: now, queue: { id: 'q1', name: 'Support' } }, metadata: { eventId: `${k1}:1`, sequence: 1 } };
    const normalizedEvent = { event_id: `${k2}:1`, sequence: 1, timestamp: now, interaction_type: 'voice', state: 'connected', conversation_id: k2, source: 'webhook', received_at: now, raw_payload: {} };
    const raw = { data: { conversationId: k3, type: 'voice', state: 'alerting', timestamp: now }, metadata: { eventId: `${k3}:1`, sequence: 1 } };
    const history = { attempts: 1, firstFailure: now, lastFailure: now };
    const letters = [
      buildDeadLetter({ payload: push, key: k1, genesys: { source: 'webhook', receivedAt: now } }, { reason: 'validation', retryable: false, message: 'old schema', sourceNode: { id: 'n1', type: 'normalize' } }, history, { topic: 'genesys.dlq' }),
      buildDeadLetter({ payload: normalizedEvent, key: k2 }, { reason: 'transport', retryable: true, message: 'broker down', sourceNode: { id: 'k1', type: 'kafka-out' } }, { ...history, attempts: 4 }, { topic: 'genesys.dlq' }),
      buildDeadLetter({ payload: raw, key: k3 }, { reason: 'transport', retryable: true, message: 'broker down', sourceNode: { id: 'k2', type: 'kafka-out' } }, { ...history, attempts: 4 }, { topic: 'genesys.dlq' }),
    ];
    const producer = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'genesys.dlq', messages: letters.map(({ record: r }) => ({ key: r.key, value: r.value, headers: r.headers as Record<string, string | Buffer> })) });
    } finally {
      await producer.disconnect();
    }
    // Test isolation: a consumer group of its own, starting at this test's letters (the DLQ topic is shared).
    const flow = await deploy('dlq-replay.json', (f) => f.map((n) => (n.type === 'dlq-replay' ? { ...n, groupId: uniqueName('replay'), from: 'timestamp', fromTime: startedAt } : n)));
    const inject = flow.find((n) => n.type === 'inject')!;
    const r = await fetch(`${red.url}/inject/${inject.id}`, { method: 'POST' });
    assert.equal(r.status, 200);
    const mine = (k: string) => (rec: SeenRecord) => rec.key === k;
    const [renormalized] = await kafka.waitFor('genesys.interactions', mine(k1), 1, mark, 20_000, 'replayed validation failure');
    assert.equal(renormalized.json.event_id, `${k1}:1`);
    assert.equal(renormalized.json.interaction_type, 'chat');
    const [asWas] = await kafka.waitFor('genesys.interactions', mine(k2), 1, mark, 10_000, 'replayed normalized event');
    assert.deepEqual(asWas.json, normalizedEvent);
    const [rawAgain] = await kafka.waitFor('genesys.raw', mine(k3), 1, mark, 10_000, 'replayed raw event');
    assert.deepEqual(rawAgain.json, raw);
    assert.deepEqual(errorsSinceDeploy(), []);
  });

  it('events into Genesys (guide 003): accepted by the ingest endpoint, audit in genesys.ingest.audit, the invalid event in genesys.ingest.dlq', async () => {
    const ingest = ingestState(ex.sim);
    const accepted0 = ingest.acceptedEvents;
    await deploy('events-into-genesys.json');
    await kafka.waitFor('genesys.ingest.audit', () => true, 1, mark, 20_000, 'ingest audit');
    const [bad] = await kafka.waitFor('genesys.ingest.dlq', (r) => r.key === 'int-bad', 1, mark, 20_000, 'refused event');
    assert.equal(bad.headers['dlq.reason'], 'validation');
    assert.ok(ingest.acceptedEvents - accepted0 >= 50, `Genesys accepted ${ingest.acceptedEvents - accepted0} events`);
  });

  it('complete pipeline: push, channels, details query and analytics all reach their topics', async () => {
    await deploy('complete-pipeline.json');
    await Promise.all([
      kafka.waitFor('genesys.interactions', normalized('webhook'), 5, mark, 25_000, 'pipeline push'),
      kafka.waitFor('genesys.interactions', normalized(['notification', 'backfill']), 5, mark, 25_000, 'pipeline channels'),
      kafka.waitFor('genesys.interactions', normalized('details-query'), 1, mark, 25_000, 'pipeline details query'),
      kafka.waitFor('genesys.raw', (r) => ex.ours(r.key), 5, mark, 25_000, 'pipeline raw'),
      kafka.waitFor('genesys.analytics', normalized('analytics-ws'), 5, mark, 25_000, 'pipeline analytics'),
    ]);
    const registrations = [...ex.sim.state.push.registrations.values()].map((reg: { target: { url: string } }) => reg.target.url);
    assert.ok(registrations.includes(`${ex.env.WEBHOOK_PUBLIC_URL}/genesys/events`), `registered ${registrations.join(', ')}`);
    assert.deepEqual(errorsSinceDeploy(), []);
  });
});
