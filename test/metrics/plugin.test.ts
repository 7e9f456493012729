// The genesys-kafka-metrics plugin in a real headless Node-RED loading dist/ (build first:
// node scripts/build.js): registered as a plugin, admin endpoints behind adminAuth, and the
// dedicated GENESYS_KAFKA_METRICS_PORT listener serving both without auth.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../harness/kafka';
import { NodeRedProcess } from '../../harness/node-red';
import { kafkaBrokers, uniqueName } from '../fixtures/env';
import { parseExposition, sampleValue } from './exposition';

const root = path.resolve(__dirname, '..', '..');
const bcrypt = require('bcryptjs') as { hashSync(s: string, rounds: number): string };

describe('genesys-kafka-metrics plugin in a headless Node-RED', function () {
  this.timeout(90_000);
  let red: NodeRedProcess;
  let metricsPort: number;
  const password = `admin-${uniqueName('pw')}`;

  before(async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const file = pkg['node-red'].plugins?.['genesys-kafka-metrics'];
    assert.ok(file, 'package.json node-red.plugins lists genesys-kafka-metrics');
    assert.ok(fs.existsSync(path.join(root, file)), `${file} missing: build dist/ first (node scripts/build.js)`);
    metricsPort = await freePort();
    red = new NodeRedProcess({
      env: { GENESYS_KAFKA_METRICS_PORT: String(metricsPort), GENESYS_KAFKA_METRICS_HOST: '127.0.0.1' },
      settings: { adminAuth: { type: 'credentials', users: [{ username: 'admin', password: bcrypt.hashSync(password, 4), permissions: '*' }] } },
      flows: [
        { id: 'tab', type: 'tab', label: 'metrics' },
        { id: 'kb', type: 'kafka-broker', name: 'shared', brokers: kafkaBrokers().join(','), clientId: 'metrics-plugin-test', connectionTimeout: 1000, requestTimeout: 5000 },
        { id: 'inj', type: 'inject', z: 'tab', x: 100, y: 100, props: [{ p: 'payload' }, { p: 'key', v: 'conv-1', vt: 'str' }],
          payload: '{"conversation_id":"conv-1"}', payloadType: 'json', once: true, onceDelay: 0.5, repeat: '', wires: [['out']] },
        { id: 'out', type: 'kafka-out', z: 'tab', x: 300, y: 100, name: 'sink', broker: 'kb', topic: uniqueName('metrics-plugin'), keyProperty: 'key', wires: [[]] },
      ],
    });
    await red.start();
  });
  after(async () => { await red?.destroy(); });

  const token = async (): Promise<string> => {
    const r = await fetch(`${red.url}/auth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password }),
    });
    assert.equal(r.status, 200);
    return ((await r.json()) as { access_token: string }).access_token;
  };

  it('registers as a plugin and serves metrics and health on the admin API to an authorised user only', async () => {
    assert.doesNotMatch(red.log, /genesys-kafka-metrics[^\n]*(Error|error)/);
    assert.match(red.log, /\[genesys-kafka-metrics\] metrics and health on http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.equal((await fetch(`${red.url}/genesys-kafka/metrics`)).status, 401, 'adminAuth applies');
    assert.equal((await fetch(`${red.url}/genesys-kafka/health`)).status, 401);
    const auth = { authorization: `Bearer ${await token()}` };
    const plugins = await fetch(`${red.url}/plugins`, { headers: { ...auth, accept: 'application/json' } });
    const list = await plugins.json() as Array<{ id: string; plugins: Array<{ id: string }> }>;
    assert.ok(list.some((set) => set.plugins.some((p) => p.id === 'genesys-kafka-metrics')), JSON.stringify(list));
    let acked: number | undefined;
    const deadline = Date.now() + 30_000;
    while (!acked && Date.now() < deadline) {
      const r = await fetch(`${red.url}/genesys-kafka/metrics`, { headers: auth });
      assert.equal(r.status, 200);
      acked = sampleValue(parseExposition(await r.text()), 'genesys_kafka_records_acked_total', { node_id: 'out', node_type: 'kafka-out', node_name: 'sink' });
      if (!acked) await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(acked, 1, 'the injected record was acked and counted');
    const health = await fetch(`${red.url}/genesys-kafka/health`, { headers: auth });
    assert.equal(health.status, 200);
    const report = await health.json() as { status: string; components: Array<{ id: string; type: string; ready: boolean }> };
    assert.equal(report.status, 'ready');
    assert.deepEqual(report.components.map((c) => [c.id, c.type, c.ready]), [['kb', 'kafka-broker', true]]);
  });

  it('serves both on the dedicated port without auth', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    const f = parseExposition(await m.text());
    assert.equal(sampleValue(f, 'genesys_kafka_records_acked_total', { node_id: 'out' }), 1);
    assert.equal(sampleValue(f, 'genesys_kafka_component_ready', { node_id: 'kb' }), 1);
    assert.ok(f.has('process_cpu_seconds_total'));
    const h = await fetch(`${base}/health`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ready');
  });
});
