// A full pipeline in a real headless Node-RED (this package loaded from its TypeScript sources, log
// level trace, admin audit on) against the Genesys simulator and Kafka, with faults that make every
// node talk: token endpoint 5xx and 401, a revoked token, webhook requests with bad JWTs, a Kafka
// broker that is not there (with SASL credentials). Every log line, every node status and Catch
// message (printed by debug nodes), the DLQ output, and the metrics and health endpoints are
// searched for every access token the simulator issued, both client secrets, the webhook signing
// secret, the valid webhook JWTs and the SASL password: none may appear, not even 16 characters of one.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../harness/kafka';
import { NodeRedProcess } from '../../harness/node-red';
import { GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { waitFor } from '../channels/support';
import { fuzzSeed, Rng } from './generators/prng';
import { claims, FUZZ_AUD, FUZZ_ISS, hs256, webhookRequest } from './generators/webhook';
import { send } from './support/http';
import { tsNodeEnv, writeSourcePackage } from './support/source-package';

const SEED = fuzzSeed();
const NODE_TYPES = ['genesys-config', 'genesys-webhook-in', 'genesys-ws-in', 'genesys-eventstream-poll', 'dedup', 'normalize', 'kafka-broker', 'kafka-out', 'dlq'];
const secret = (label: string): string => `${label}-${randomBytes(20).toString('base64url')}`;

/** Where `needle` (or any 16-character piece of it) occurs in `hay`, as a short excerpt; null if nowhere. */
function leak(hay: string, needle: string, window = 16): string | null {
  const pieces = needle.length <= window ? [needle] : Array.from({ length: needle.length - window + 1 }, (_, i) => needle.slice(i, i + window));
  for (const p of pieces) {
    const at = hay.indexOf(p);
    if (at !== -1) return hay.slice(Math.max(0, at - 120), at + p.length + 40).replace(/\s+/g, ' ');
  }
  return null;
}

describe(`hostile input: no secret in logs, statuses, Catch messages, metrics or health (FUZZ_SEED=${SEED})`, function () {
  this.timeout(150_000);
  let sim: GenesysSimulator;
  let red: NodeRedProcess | null = null;
  let userDir = '';
  afterEach(async () => {
    await red?.destroy();
    red = null;
    await sim?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('a full pipeline run with faults leaks no access token, client secret, signing secret, JWT or SASL password', async () => {
    const CLIENT = { id: 'hostile-client', secret: secret('client-secret') };
    const WRONG_SECRET = secret('wrong-client-secret');
    const WEBHOOK_SECRET = secret('webhook-signing-secret');
    const SASL_USER = 'hostile-sasl-user';
    const SASL_PASSWORD = secret('sasl-password');
    const DECOY = secret('decoy');
    sim = new GenesysSimulator({ clients: [{ ...CLIENT, tokenLifetimeSeconds: 6 }], heartbeatMs: 1000, rateLimitPerMinute: 0 });
    // Every token the simulator ever issued (revoked and expired ones leave sim.tokens).
    const issued = new Set<string>();
    const setToken = sim.tokens.set.bind(sim.tokens);
    sim.tokens.set = (k, v) => { issued.add(k); return setToken(k, v); };
    await sim.start();
    sim.injectFault('/oauth/token', 503, 2); // the first logins fail with 5xx

    const port = await freePort();
    const deadBroker = `127.0.0.1:${await freePort()}`;
    const topic = uniqueName('hostile-logs');
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-logs-'));
    const nodesDir = path.join(userDir, 'source-nodes'); // not userDir/nodes: Node-RED scans that as loose node files
    writeSourcePackage(nodesDir, NODE_TYPES, ['genesys-kafka-metrics']);
    const stream = (sim.state.eventstreams as any).createStream('hostile', [{ entityType: 'interaction', eventType: 'created' }]);

    const z = 'hostile-tab';
    const debug = (id: string, name: string) => ({ id, z, type: 'debug', name, active: true, tosidebar: false, console: true, tostatus: false, complete: 'true', targetType: 'full', wires: [] });
    const flows = [
      { id: z, type: 'tab', label: 'hostile log run' },
      { id: 'gc', type: 'genesys-config', name: 'org', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 3 },
      { id: 'gc-bad', type: 'genesys-config', name: 'wrong secret', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 3 },
      { id: 'kb', type: 'kafka-broker', name: 'live', brokers: kafkaBrokers().join(','), clientId: 'hostile-logs', saslMechanism: 'none', connectionTimeout: 2000, requestTimeout: 5000, autoCreateTopics: true, topicPartitions: 1, topicReplicationFactor: 1 },
      { id: 'kb-dead', type: 'kafka-broker', name: 'nowhere', brokers: deadBroker, clientId: 'hostile-logs-dead', saslMechanism: 'plain', connectionTimeout: 500, requestTimeout: 1000 },
      { id: 'wh', z, type: 'genesys-webhook-in', path: '/hostile/hook', listener: 'httpNode', ack: 'receipt', maxBodyKb: 512, issuer: FUZZ_ISS, audience: FUZZ_AUD, clockTolerance: 30,
        secretSource: 'credentials', secretEncoding: 'text', tokenCache: true, register: true, genesys: 'gc', publicUrl: `http://127.0.0.1:${port}`, filter: '', wires: [['dd']] },
      { id: 'ws', z, type: 'genesys-ws-in', genesys: 'gc', mode: 'channels', queueIds: 'q-hostile', queueIdsType: 'str', userIds: '', userIdsType: 'str', topics: '',
        maxChannels: 2, idleTimeout: 5, reconnectMax: 1, backfill: true, janitor: false, wires: [['dd']] },
      { id: 'poll-bad', z, type: 'genesys-eventstream-poll', genesys: 'gc-bad', mode: 'eventstream', streamId: stream.subscription.id, interval: 1, pageSize: 50, ack: 'emit',
        store: 'memory', errorRetryMs: 2000, backoffInitialMs: 200, backoffMaxMs: 1000, wires: [['dd']] },
      { id: 'dd', z, type: 'dedup', keyMode: 'auto', window: 300, store: 'memory', maxEntries: 10000, duplicates: 'drop', wires: [['nm'], [], ['dlq-main']] },
      { id: 'nm', z, type: 'normalize', shape: 'auto', rawOutput: false, outputs: 2, wires: [['ko', 'ko-dead'], ['dlq-main']] },
      { id: 'ko', z, type: 'kafka-out', broker: 'kb', topic, keyProperty: 'key', headersFromMsg: true, lingerMs: 5, retries: 2, deliveryTimeout: 10, flushTimeout: 2, wires: [[]] },
      { id: 'ko-dead', z, type: 'kafka-out', broker: 'kb-dead', topic, keyProperty: 'key', lingerMs: 5, retries: 1, deliveryTimeout: 2, flushTimeout: 1, wires: [[]] },
      { id: 'catch-dead', z, type: 'catch', scope: ['ko-dead'], uncaught: false, wires: [['dlq-dead', 'caught']] },
      { id: 'dlq-main', z, type: 'dlq', broker: 'kb', topic: `${topic}.dlq`, retries: 1, retryBaseMs: 200, retryMaxMs: 1000, spoolDir: path.join(userDir, 'spool'), spoolAfterMs: 500, includeStack: true, wires: [['ko'], ['dead']] },
      { id: 'dlq-dead', z, type: 'dlq', broker: 'kb-dead', topic: `${topic}.dlq`, retries: 1, retryBaseMs: 200, retryMaxMs: 500, spoolDir: path.join(userDir, 'spool-dead'), spoolAfterMs: 300, includeStack: true, wires: [['ko-dead'], ['dead']] },
      { id: 'catch-all', z, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'status-all', z, type: 'status', scope: null, wires: [['statuses']] },
      debug('caught', 'CATCH'), debug('statuses', 'STATUS'), debug('dead', 'DEAD LETTER'),
      // A control: a value a node does log must be found by the search below.
      { id: 'decoy', z, type: 'inject', once: true, onceDelay: 0.1, repeat: '', props: [{ p: 'payload' }], payload: DECOY, payloadType: 'str', wires: [['decoy-warn']] },
      { id: 'decoy-warn', z, type: 'function', func: 'node.warn(msg.payload); return null;', outputs: 1, wires: [[]] },
    ];
    red = new NodeRedProcess({
      port, userDir, flows,
      credentials: {
        gc: { clientId: CLIENT.id, clientSecret: CLIENT.secret },
        'gc-bad': { clientId: CLIENT.id, clientSecret: WRONG_SECRET },
        'kb-dead': { username: SASL_USER, password: SASL_PASSWORD },
        wh: { secret: WEBHOOK_SECRET },
      },
      env: tsNodeEnv(),
      settings: { nodesDir: [nodesDir], logging: { console: { level: 'trace', metrics: false, audit: true } } },
    });
    const t0 = Date.now();
    await red.start();

    // ---- traffic and faults ----------------------------------------------------------------------
    const st = sim.state.channels as ChannelsState;
    await waitFor(() => st.list().some((c) => c.socket), 30_000, 'ws-in connected after the failed logins');
    const conversations = Array.from({ length: 20 }, (_, i) => `hostile-conv-${i}`);
    for (const id of conversations) sim.world.start({ id, mediaType: 'voice', direction: 'inbound', queueId: 'q-hostile', queueName: 'Hostile', customerAddress: 'tel:+1555', startTime: new Date().toISOString() });

    const rng = new Rng(SEED);
    const jwts: string[] = [];
    const url = `${red.url}/hostile/hook`;
    const answers = new Map<number | string, number>();
    for (let i = 0; i < 150; i++) {
      // Bad tokens of every class (the generator signs with its own secret: refused), and valid ones with ours.
      const r = i % 3 === 0 ? (() => {
        const jwt = hs256(claims(rng), WEBHOOK_SECRET);
        jwts.push(jwt);
        return { headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` }, body: Buffer.from(JSON.stringify({ data: { conversationId: rng.uuid(), type: 'voice', state: 'connected' }, metadata: { eventId: rng.uuid(), sequence: i } })) };
      })() : webhookRequest(rng, { bodyLimit: 512 * 1024, maxEvents: 10_000 });
      const o = await send(url, r, false);
      answers.set(o.status, (answers.get(o.status) ?? 0) + 1);
    }
    sim.injectFault('/oauth/token', 502, 2); // the next refreshes fail with 5xx
    for (const id of conversations.slice(0, 10)) sim.world.update(id, { state: 'alerting', agentId: 'u-1', agentName: 'Ann' });
    const channel = st.list()[0];
    st.revokeToken(channel.id); // v2.system.token_revoked: the token is dropped, a new one fetched
    await waitFor(() => st.list().some((c) => c.socket && c.id !== channel.id), 20_000, 'a new channel after the revoked token');
    for (const id of conversations.slice(10)) sim.world.update(id, { state: 'ended', endTime: new Date().toISOString() });
    await red.waitForLog(/hostile-logs-dead|ECONNREFUSED|Connection error|nowhere/i, 20_000);
    await red.waitForLog(/DEAD LETTER|dead-letter|spool/i, 20_000).catch(() => undefined);
    await waitFor(() => issued.size >= 3, 20_000, 'a token refresh (6 s tokens) after the failed ones');
    await new Promise((r) => setTimeout(r, 2000)); // Kafka retries, DLQ spooling
    const metrics = await (await fetch(`${red.url}/genesys-kafka/metrics`)).text();
    const healthRes = await fetch(`${red.url}/genesys-kafka/health`);
    const health = await healthRes.text();
    await red.stop(); // closing logs count too
    const log = red.log;
    const runMs = Date.now() - t0;
    if (process.env.HOSTILE_LOG_FILE) fs.writeFileSync(process.env.HOSTILE_LOG_FILE, log); // to read what a run logged

    // ---- the run did what it should, so the search below means something -------------------------
    console.log(`  [hostile] log run: ${runMs} ms, ${red.logLines.length} log lines (${(log.length / 1e6).toFixed(1)} MB), ${issued.size} access tokens issued, ` +
      `webhook answers ${[...answers.entries()].map(([s, n]) => `${s}×${n}`).join(' ')}, metrics ${metrics.length} B, health ${healthRes.status} ${health.length} B`);
    assert.ok(issued.size >= 3, `tokens issued: ${issued.size} (start, refresh, after the revocation)`);
    assert.ok((answers.get(401) ?? 0) > 20 && (answers.get(200) ?? 0) >= 50, 'bad tokens refused, valid ones accepted');
    assert.match(log, /\[genesys-config:org\][^\n]*(503|502)/, 'the 5xx logins were logged');
    assert.match(log, /\[genesys-config:wrong secret\][^\n]*(401|invalid_client)/, 'the refused client was logged');
    assert.match(log, /CATCH/, 'Catch messages were printed');
    assert.match(log, /STATUS/, 'statuses were printed');
    assert.match(metrics, /# TYPE /);
    assert.ok(leak(log, DECOY.slice(3, 30)), 'the search finds a value a node logged (control)');

    // ---- no secret anywhere -------------------------------------------------------------------------
    const basic = (id: string, s: string) => Buffer.from(`${id}:${s}`).toString('base64');
    const secrets: [string, string][] = [
      ...[...issued].map((t, i): [string, string] => [`access token #${i + 1}`, t]),
      ['client secret', CLIENT.secret], ['wrong client secret', WRONG_SECRET],
      ['Basic credentials', basic(CLIENT.id, CLIENT.secret)], ['wrong Basic credentials', basic(CLIENT.id, WRONG_SECRET)],
      ['webhook signing secret', WEBHOOK_SECRET], ['SASL password', SASL_PASSWORD],
      ...jwts.map((j, i): [string, string] => [`webhook JWT #${i + 1} signature`, j.slice(j.lastIndexOf('.') + 1)]),
    ];
    // The DLQ spools on disk (dead letters for the unreachable broker) are output too.
    const spooled = ['spool', 'spool-dead'].flatMap((d) => {
      const dir = path.join(userDir, d);
      return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f))).filter((f) => fs.statSync(f).isFile()) : [];
    });
    const spool = spooled.map((f) => fs.readFileSync(f, 'latin1')).join('\n');
    assert.ok(spool.length > 0, 'dead letters were spooled');
    const places: [string, string][] = [['Node-RED log', log], ['metrics', metrics], ['health', health], ['DLQ spool files', spool]];
    const leaks: string[] = [];
    for (const [what, value] of secrets) {
      for (const [where, text] of places) {
        const found = leak(text, value);
        if (found) leaks.push(`${what} in ${where}: …${found}…`);
      }
    }
    assert.deepEqual(leaks, []);
  });
});
