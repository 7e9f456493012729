import { strict as assert } from 'node:assert';
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';
import { forceOAuthError, clearOAuthError, oauthState } from '../../simulator/routes/oauth';

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

describe('simulator: OAuth faults and the per-token rate limit', () => {
  let sim: GenesysSimulator;
  beforeEach(async () => {
    sim = new GenesysSimulator({ clients: [DEFAULT_CLIENT, { id: 'short', secret: 's:with:colons', tokenLifetimeSeconds: 300 }] });
    await sim.start();
  });
  afterEach(() => sim.stop());

  const tokenReq = (id = DEFAULT_CLIENT.id, secret = DEFAULT_CLIENT.secret, body = 'grant_type=client_credentials') =>
    fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' }, body });
  const token = async (id?: string, secret?: string) => ((await (await tokenReq(id, secret)).json()) as { access_token: string }).access_token;

  it('issues tokens with the configured lifetime, per client; secrets may contain colons', async () => {
    const a = await (await tokenReq()).json() as any;
    assert.equal(a.expires_in, 86399);
    const b = await (await tokenReq('short', 's:with:colons')).json() as any;
    assert.equal(b.expires_in, 300);
    sim.opts.tokenLifetimeSeconds = 1;
    const c = await (await tokenReq()).json() as any;
    assert.equal(c.expires_in, 1);
    await new Promise((r) => setTimeout(r, 1050));
    const res = await fetch(`${sim.baseUrl}/api/v2/conversations/x`, { headers: { authorization: `Bearer ${c.access_token}` } });
    assert.equal(res.status, 401, 'an expired token is refused');
    assert.equal(oauthState(sim).issued, 3);
  });

  it('rejects a wrong grant type and a missing Authorization header', async () => {
    const g = await tokenReq(undefined, undefined, 'grant_type=password');
    assert.equal(g.status, 400);
    assert.equal((await g.json() as any).error, 'unsupported_grant_type');
    const none = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials' });
    assert.equal(none.status, 401);
  });

  it('forced invalid_client / unauthorized_client answer 401 / 400 for N calls, and count', async () => {
    forceOAuthError(sim, 'invalid_client', 2);
    assert.equal((await tokenReq()).status, 401);
    assert.equal((await (await tokenReq()).json() as any).error, 'invalid_client');
    assert.equal((await tokenReq()).status, 200);
    forceOAuthError(sim, 'unauthorized_client');
    const u = await tokenReq();
    assert.equal(u.status, 400);
    assert.equal((await u.json() as any).error, 'unauthorized_client');
    clearOAuthError(sim);
    assert.equal((await tokenReq()).status, 200);
    assert.equal(sim.count('POST /oauth/token'), 5);
    assert.deepEqual({ calls: oauthState(sim).calls, rejected: oauthState(sim).rejected }, { calls: 5, rejected: 3 });
  });

  it('injected 5xx and slow answers on the token endpoint', async () => {
    sim.injectFault('/oauth/token', 503, 1);
    const f = await tokenReq();
    assert.equal(f.status, 503);
    assert.equal((await f.json() as any).code, 'internal.server.error');
    const undo = sim.injectDelay('/oauth/token', 150);
    const t0 = Date.now();
    assert.equal((await tokenReq()).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    undo();
    const t1 = Date.now();
    await tokenReq();
    assert.ok(Date.now() - t1 < 100);
  });

  it('API answers carry inin-ratelimit-*; over the limit: 429, Retry-After, the Genesys body; per token', async () => {
    sim.setRateLimit(2, 2000);
    const t = await token();
    const call = (tok: string) => fetch(`${sim.baseUrl}/api/v2/conversations/none`, { headers: { authorization: `Bearer ${tok}` } });
    const r1 = await call(t);
    assert.equal(r1.status, 404);
    assert.equal(r1.headers.get('inin-ratelimit-count'), '1');
    assert.equal(r1.headers.get('inin-ratelimit-allowed'), '2');
    assert.equal(r1.headers.get('inin-ratelimit-reset'), '2');
    assert.equal((await call(t)).headers.get('inin-ratelimit-count'), '2');
    const r3 = await call(t);
    assert.equal(r3.status, 429);
    assert.equal(r3.headers.get('retry-after'), '2');
    const body = await r3.json() as any;
    assert.equal(body.code, 'too.many.requests.retry.after');
    assert.equal(body.status, 429);
    assert.match(body.message, /Retry the request in \[2\] seconds/);
    const other = await token();
    assert.equal((await call(other)).status, 404, 'another token has its own budget');
    assert.equal((await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic(DEFAULT_CLIENT.id, DEFAULT_CLIENT.secret) }, body: 'grant_type=client_credentials' })).status, 200, 'the login host is not limited');
  });

  it('defaults to 300 per minute; 0 turns the limit off; the guides\' own endpoints are exempt', async () => {
    assert.equal(sim.opts.rateLimitPerMinute, 300);
    assert.equal(sim.opts.rateLimitWindowMs, 60_000);
    assert.deepEqual(sim.opts.rateLimitExempt, ['/api/v2/eventstreams/', '/api/v2/events/']);
    const t = await token();
    sim.opts.rateLimitExempt.push('/api/v2/test-exempt/');
    sim.route('GET', '/api/v2/test-exempt/:id', (_q, res) => { res.end('{}'); });
    sim.setRateLimit(1, 60_000);
    for (let i = 0; i < 3; i++) {
      const ex = await fetch(`${sim.baseUrl}/api/v2/test-exempt/s1`, { headers: { authorization: `Bearer ${t}` } });
      assert.equal(ex.status, 200);
      assert.equal(ex.headers.get('inin-ratelimit-allowed'), null);
    }
    sim.setRateLimit(0);
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${sim.baseUrl}/api/v2/conversations/none`, { headers: { authorization: `Bearer ${t}` } });
      assert.equal(r.status, 404);
      assert.equal(r.headers.get('inin-ratelimit-allowed'), null);
    }
  });
});
