import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
// No type declarations ship with the helper.
const helper = require('node-red-node-test-helper');
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';
import { clearOAuthError, forceOAuthError } from '../../simulator/routes/oauth';
import type { GenesysConfigNode } from '../../nodes/genesys-config/types';
import { REGIONS } from '../../lib/genesys/regions';
import configInit = require('../../nodes/genesys-config/genesys-config');

helper.init(require.resolve('node-red'));

/** A minimal user of genesys-config, like every source/sink node: registers for status, deregisters on close. */
function userInit(RED: any): void {
  function GenesysTestUser(this: any, config: any) {
    RED.nodes.createNode(this, config);
    const cfg = RED.nodes.getNode(config.genesys) as GenesysConfigNode;
    cfg.register(this);
    this.on('close', (_removed: boolean, done: () => void) => cfg.deregister(this, done));
  }
  RED.nodes.registerType('genesys-test-user', GenesysTestUser);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await wait(10);
  }
}

describe('genesys-config node', function () {
  let sim: GenesysSimulator;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => { sim = new GenesysSimulator(); await sim.start(); });
  afterEach(async () => { await helper.unload(); await sim.stop(); delete process.env.GC_TEST_ID; delete process.env.GC_TEST_SECRET; });

  const flow = (extra: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 'c1', type: 'genesys-config', name: 'sim', region: 'custom', baseUrl: sim.baseUrl, scopes: '', refreshBuffer: 300, timeout: 15, ...extra },
    { id: 'u1', type: 'genesys-test-user', z: 'tab', genesys: 'c1' },
    { id: 'u2', type: 'genesys-test-user', z: 'tab', genesys: 'c1' },
  ];
  const creds = (clientId = DEFAULT_CLIENT.id, clientSecret = DEFAULT_CLIENT.secret) => ({ c1: { clientId, clientSecret } });
  const statuses = (id: string) => (helper.getNode(id) as any).status.args.map((a: any[]) => a[0]);

  it('loads with credentials, exposes tokenManager/api and fans a green status out to every user', async () => {
    await helper.load([configInit, userInit], flow(), creds());
    const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
    assert.equal(cfg.endpoints!.tokenUrl, `${sim.baseUrl}/oauth/token`);
    assert.equal(cfg.api.apiBase, sim.baseUrl);
    await until(() => statuses('u1').some((s: any) => s.fill === 'green') && statuses('u2').some((s: any) => s.fill === 'green'));
    assert.deepEqual(statuses('u1').at(-1), { fill: 'green', shape: 'dot', text: 'genesys-config.status.connected' });
    assert.equal(sim.count('POST /oauth/token'), 1, 'one token for both users');
    sim.world.start({ id: 'conv-1', mediaType: 'chat', direction: 'inbound', queueId: 'q', queueName: 'Q', customerAddress: 'a@b', startTime: new Date().toISOString() });
    const res = await cfg.api.request({ method: 'GET', path: '/api/v2/conversations/conv-1' });
    assert.equal(res.body.id, 'conv-1');
    assert.equal(sim.count('POST /oauth/token'), 1);
  });

  it('reads ${VAR} credentials from the environment', async () => {
    process.env.GC_TEST_ID = DEFAULT_CLIENT.id;
    process.env.GC_TEST_SECRET = DEFAULT_CLIENT.secret;
    await helper.load([configInit, userInit], flow(), creds('${GC_TEST_ID}', '${GC_TEST_SECRET}'));
    const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
    const token = await cfg.tokenManager.getToken();
    assert.ok(sim.tokens.has(token));
  });

  it('invalid credentials: red status on every user, one error log, no retry storm', async () => {
    await helper.load([configInit, userInit], flow(), creds(DEFAULT_CLIENT.id, 'wrong-secret'));
    await until(() => statuses('u1').some((s: any) => s.fill === 'red'));
    await until(() => statuses('u2').some((s: any) => s.fill === 'red'));
    const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
    await Promise.allSettled(Array.from({ length: 30 }, () => cfg.api.request({ method: 'GET', path: '/api/v2/conversations/x' })));
    await wait(200);
    assert.equal(sim.count('POST /oauth/token'), 1, 'exactly one token request');
    assert.deepEqual(statuses('u1').at(-1), { fill: 'red', shape: 'ring', text: 'genesys-config.status.failed' });
    const errors = (helper.getNode('c1') as any).error.args.map((a: any[]) => String(a[0]));
    assert.equal(errors.filter((e: string) => e.startsWith('genesys-config.errors.login')).length, 1);
    assert.equal(cfg.tokenStatus.state, 'failed');
    assert.match(cfg.tokenStatus.error!, /invalid_client/);
  });

  it('a bad custom URL or missing secret: red "not configured", requests reject clearly, no calls', async () => {
    await helper.load([configInit, userInit], flow({ baseUrl: 'not a url' }), creds());
    await until(() => statuses('u1').some((s: any) => s.fill === 'red'));
    assert.equal(statuses('u1').at(-1).text, 'genesys-config.status.misconfigured');
    const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
    await assert.rejects(cfg.api.request({ method: 'GET', path: '/api/v2/conversations/x' }), /invalid custom base URL/);
    await helper.unload();
    await helper.load([configInit, userInit], flow(), creds(DEFAULT_CLIENT.id, ''));
    const cfg2 = helper.getNode('c1') as unknown as GenesysConfigNode;
    await assert.rejects(cfg2.tokenManager.getToken(), /client id and client secret are required/);
    assert.equal(sim.count('POST /oauth/token'), 0);
  });

  it('login 5xx: yellow "retrying" then green, with backoff', async () => {
    sim.injectFault('/oauth/token', 503, 1);
    await helper.load([configInit, userInit], flow(), creds());
    await until(() => statuses('u1').some((s: any) => s.fill === 'green'), 5000);
    const seen = statuses('u1').map((s: any) => s.text);
    assert.ok(seen.includes('genesys-config.status.retrying'), seen.join());
    assert.equal(sim.count('POST /oauth/token'), 2);
  });

  it('POST /genesys-config/:id/test with the deployed credentials reports ok without the token', async () => {
    await helper.load([configInit, userInit], flow(), creds());
    const res = await helper.request().post('/genesys-config/c1/test').send({}).expect(200);
    assert.equal(res.body.ok, true);
    assert.equal(res.body.tokenUrl, `${sim.baseUrl}/oauth/token`);
    assert.ok(res.body.expiresInSeconds > 86000);
    const issued = [...sim.tokens.keys()];
    for (const t of issued) assert.ok(!res.text.includes(t), 'no token in the answer');
  });

  it('the test endpoint uses typed values, keeps the stored secret for the password placeholder, and reports failures', async () => {
    await helper.load([configInit, userInit], flow(), creds());
    const typed = { region: 'custom', baseUrl: sim.baseUrl, clientId: DEFAULT_CLIENT.id };
    await helper.request().post('/genesys-config/c1/test').send({ ...typed, clientSecret: '__PWRD__' }).expect(200);
    const bad = await helper.request().post('/genesys-config/c1/test').send({ ...typed, clientSecret: 'typo' }).expect(502);
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.status, 401);
    assert.match(bad.body.error, /invalid_client/);
    assert.ok(!bad.text.includes('typo'));
    const badUrl = await helper.request().post('/genesys-config/c1/test').send({ region: 'custom', baseUrl: 'ftp://x' }).expect(400);
    assert.match(badUrl.body.error, /http/);
    const badRegion = await helper.request().post('/genesys-config/c1/test').send({ region: 'mars-1' }).expect(400);
    assert.match(badRegion.body.error, /unknown Genesys Cloud region/);
    const unknown = await helper.request().post('/genesys-config/nope/test').send({}).expect(404);
    assert.equal(unknown.body.ok, false);
    const down = await helper.request().post('/genesys-config/new1/test').send({ region: 'custom', baseUrl: 'http://127.0.0.1:9', clientId: 'a', clientSecret: 'b' }).expect(502);
    assert.match(down.body.error, /unreachable/);
    const noSecret = await helper.request().post('/genesys-config/new2/test').send({ region: 'custom', baseUrl: sim.baseUrl, clientId: 'a' }).expect(400);
    assert.equal(noSecret.body.error, 'genesys-config.test.noCredentials');
  });

  it('a successful test connection lifts the terminal state after the credentials were fixed on the org', async () => {
    forceOAuthError(sim, 'invalid_client');
    await helper.load([configInit, userInit], flow(), creds());
    await until(() => statuses('u1').some((s: any) => s.fill === 'red'));
    clearOAuthError(sim); // the admin fixed the client on the org
    await helper.request().post('/genesys-config/c1/test').send({}).expect(200);
    await until(() => statuses('u1').at(-1).fill === 'green');
  });

  it('deregister calls done; close stops the manager and later calls reject', async () => {
    await helper.load([configInit, userInit], flow(), creds());
    const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
    await cfg.tokenManager.getToken();
    let doneCalled = false;
    cfg.deregister(helper.getNode('u2'), () => { doneCalled = true; });
    assert.ok(doneCalled);
    assert.deepEqual([...(cfg as any).users.keys()], ['u1']);
    await helper.unload();
    await assert.rejects(cfg.tokenManager.getToken(), /closed/);
    assert.equal(cfg.tokenStatus.state, 'closed');
  });

  it('never writes the token or the secret to the log or the console', async () => {
    const out: string[] = [];
    const origOut = process.stdout.write.bind(process.stdout);
    const origErr = process.stderr.write.bind(process.stderr);
    (process.stdout as any).write = (c: any, ...a: any[]) => { out.push(String(c)); return origOut(c, ...a); };
    (process.stderr as any).write = (c: any, ...a: any[]) => { out.push(String(c)); return origErr(c, ...a); };
    let token = '';
    try {
      sim.injectFault('/oauth/token', 500, 1);
      await helper.load([configInit, userInit], flow(), creds());
      const cfg = helper.getNode('c1') as unknown as GenesysConfigNode;
      token = await cfg.tokenManager.getToken();
      sim.revokeAllTokens();
      await cfg.api.request({ method: 'GET', path: '/api/v2/conversations/none', acceptStatus: [404] });
      sim.injectFault('/api/v2/', 429, 1, 1);
      await cfg.api.request({ method: 'GET', path: '/api/v2/conversations/none', acceptStatus: [404] });
      await cfg.api.request({ method: 'GET', path: '/api/v2/conversations/none' }).catch(() => undefined);
      await helper.request().post('/genesys-config/c1/test').send({ region: 'custom', baseUrl: sim.baseUrl, clientId: 'x', clientSecret: 'typed-secret' });
      forceOAuthError(sim, 'invalid_client');
      cfg.tokenManager.invalidate(await cfg.tokenManager.getToken());
      await cfg.tokenManager.getToken().catch(() => undefined);
    } finally {
      (process.stdout as any).write = origOut;
      (process.stderr as any).write = origErr;
    }
    const logged = JSON.stringify(helper.log().args) + out.join('');
    assert.ok(logged.includes('genesys-config.errors'), 'the log was captured');
    assert.ok(token && !logged.includes(token), 'token in logs');
    for (const t of sim.tokens.keys()) assert.ok(!logged.includes(t));
    assert.ok(!logged.includes(DEFAULT_CLIENT.secret), 'secret in logs');
    assert.ok(!logged.includes('typed-secret'));
  });

  it('the editor lists every region of lib/genesys/regions.ts', () => {
    const html = fs.readFileSync(path.join(__dirname, '../../nodes/genesys-config/genesys-config.html'), 'utf8');
    for (const r of REGIONS) assert.ok(html.includes(`value="${r.id}" data-env="${r.env}"`), `${r.id} missing in the editor`);
    const options = html.match(/<option value="[^"]+" data-env=/g) ?? [];
    assert.equal(options.length, REGIONS.length);
  });
});
