// Push subscription kept in step with the node: genesys-config + the simulator's guide-000 endpoint.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PushState } from '../../simulator/routes/push';
import { DEFAULT_CLIENT, type GenesysSimulator } from '../../simulator/server';
import { helper, jsonHeaders, post, startServer, tab, webhookInit } from './node-support';
import { AUD, conversation, SECRET, simulatorWithToken, sleep, token } from './support';

const genesysConfigNode = require('../../nodes/genesys-config/genesys-config');

describe('genesys-webhook-in push registration', function () {
  this.timeout(15000);
  let sim: GenesysSimulator;
  const push = () => sim.state.push as PushState;
  const flow = (extra: Record<string, unknown>) => [
    tab,
    { id: 'gc', type: 'genesys-config', name: 'sim', region: 'custom', baseUrl: sim.baseUrl, scopes: '', refreshBuffer: 300, timeout: 5 },
    { id: 'in', z: 'tab1', type: 'genesys-webhook-in', path: '/reg-hook', ack: 'receipt', audience: AUD, issuer: 'genesys-cloud',
      register: true, genesys: 'gc', publicUrl: helper.url(), filter: "type == 'voice'", maxRetries: 2, initialDelayMs: 50, maxDelayMs: 100, backoffMultiplier: 2, wires: [['out']], ...extra },
    { id: 'out', z: 'tab1', type: 'helper' },
  ];
  const creds = (extra: Record<string, unknown> = { secret: SECRET }) => ({ in: extra, gc: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
  before(startServer);
  beforeEach(async () => { ({ sim } = await simulatorWithToken()); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });
  after(() => helper.stopServer());

  it('registers with the current secret and re-registers when the secrets file rotates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5-reg-'));
    const file = path.join(dir, 'secrets');
    const NEW = 'next-secret-0123456789abcdef0123456789ab';
    fs.writeFileSync(file, `${SECRET}\n`);
    try {
      await helper.load([webhookInit, genesysConfigNode], flow({ secretSource: 'file', secretFile: file, secretPollMs: 30 }), creds({}));
      const node = helper.getNode('in') as any;
      await node.registering;
      const [reg] = [...push().registrations.values()];
      assert.equal(reg.security.signingSecret, SECRET);
      assert.equal(reg.target.url, `${helper.url()}/reg-hook`);
      assert.equal(reg.name, 'node-red.genesys-webhook-in.in');
      const received: any[] = [];
      helper.getNode('out').on('input', (m: any) => received.push(m));
      sim.world.start(conversation());
      await push().idle();
      // Rotation: the new secret goes first, the old one stays for the overlap.
      fs.writeFileSync(file, `${NEW}\n${SECRET}\n`);
      const deadline = Date.now() + 3000;
      while (push().registrations.get(reg.id)!.security.signingSecret !== NEW && Date.now() < deadline) await sleep(20);
      assert.equal(push().registrations.get(reg.id)!.security.signingSecret, NEW, 'registration updated with the new secret');
      assert.equal(push().registrations.size, 1);
      sim.world.start(conversation());
      await push().idle();
      assert.equal(received.length, 2);
      assert.ok(sim.ledger.byPath('push').every((e) => e.delivered));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an invalid filter is not registered; a refused registration is reported', async () => {
    await helper.load([webhookInit, genesysConfigNode], flow({ filter: 'customer.phoneNumber != null' }), creds());
    const node = helper.getNode('in') as any;
    await node.registering;
    assert.equal(push().registrations.size, 0);
    assert.ok(node.error.args.some((a: any[]) => /errors\.bad-filter/.test(String(a[0]))));
    assert.equal((await post(`${helper.url()}/reg-hook`, '{}', jsonHeaders(token()))).status, 200, 'still listening');
    await helper.unload();

    sim.injectFault('/api/v2/notifications', 400, 5);
    await helper.load([webhookInit, genesysConfigNode], flow({}), creds());
    const n2 = helper.getNode('in') as any;
    await n2.registering;
    assert.ok(n2.error.args.some((a: any[]) => /errors\.register-failed/.test(String(a[0]))));
  });
});
