import { strict as assert } from 'node:assert';
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';
import { forceOAuthError, oauthState } from '../../simulator/routes/oauth';
import { TokenManager, GenesysAuthError, type TokenStatus } from '../../lib/genesys/token-manager';
import { GenesysApiError } from '../../lib/genesys/types';

const FAST_RETRY = { initialMs: 40, maxMs: 160, minMs: 20 };

describe('genesys token manager (against the simulator)', () => {
  let sim: GenesysSimulator;
  const managers: TokenManager[] = [];
  const make = (o: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}) => {
    const tm = new TokenManager({ tokenUrl: `${sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret, retry: FAST_RETRY, ...o });
    managers.push(tm);
    return tm;
  };
  const tokenCalls = () => sim.count('POST /oauth/token');

  beforeEach(async () => { sim = new GenesysSimulator(); await sim.start(); });
  afterEach(async () => { for (const m of managers.splice(0)) m.close(); await sim.stop(); });

  it('50 concurrent getToken() calls share exactly one token request', async () => {
    const tm = make();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => tm.getToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(tokenCalls(), 1);
    assert.ok(sim.tokens.has(tokens[0]), 'the simulator issued this token');
    assert.equal(await tm.getToken(), tokens[0], 'cached afterwards');
    assert.equal(tokenCalls(), 1);
    assert.equal(tm.status.state, 'ready');
  });

  it('sends HTTP Basic, the form grant and the scopes', async () => {
    const tm = make({ scopes: 'notifications, analytics:readonly' });
    await tm.getToken();
    assert.equal(oauthState(sim).issued, 1);
    assert.equal(oauthState(sim).lastScope, 'notifications analytics:readonly');
  });

  it('refreshes proactively before expiry (1 s token, buffer scaled to 10 %)', async () => {
    sim.opts.tokenLifetimeSeconds = 1;
    const tm = make({ refreshBufferMs: 300_000 });
    const states: TokenStatus[] = [];
    tm.on('state', (s: TokenStatus) => states.push(s));
    const t0 = Date.now();
    const first = await tm.getToken();
    const st = tm.status;
    assert.ok(st.refreshAt! - t0 >= 850 && st.refreshAt! - t0 <= 950, `refresh planned ${st.refreshAt! - t0} ms after the request`);
    await new Promise((r) => setTimeout(r, 1050));
    assert.equal(tokenCalls(), 2, 'refreshed in the background without a caller');
    const second = await tm.getToken();
    assert.notEqual(second, first);
    assert.ok(sim.tokens.get(second)!.expiresAt > Date.now(), 'the new token is valid');
    assert.equal(tokenCalls(), 2, 'getToken() after the refresh used the cache');
    assert.ok(states.every((s) => s.state === 'ready' || s.state === 'fetching'));
  });

  it('keeps a 5-minute buffer for a 24 h token', async () => {
    const tm = make({ refreshBufferMs: 300_000 });
    const t0 = Date.now();
    await tm.getToken();
    const { expiresAt, refreshAt } = tm.status;
    assert.ok(Math.abs(expiresAt! - t0 - 86_399_000) < 1000);
    assert.equal(expiresAt! - refreshAt!, 300_000);
  });

  it('invalidate(token) makes the next call fetch a new token; a stale invalidate is ignored', async () => {
    const tm = make();
    const a = await tm.getToken();
    tm.invalidate(a);
    const b = await tm.getToken();
    assert.notEqual(a, b);
    tm.invalidate(a); // an older token: must not throw away b
    assert.equal(await tm.getToken(), b);
    assert.equal(tokenCalls(), 2);
  });

  it('invalid_client is terminal: red state, one request, no storm; reset() allows one new try', async () => {
    const tm = make({ clientSecret: 'wrong-secret' });
    const states: TokenStatus[] = [];
    tm.on('state', (s: TokenStatus) => states.push(s));
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => tm.getToken()));
    for (let i = 0; i < 5; i++) await tm.getToken().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // no background retries either
    assert.equal(tokenCalls(), 1, 'exactly one token request');
    assert.ok(results.every((r) => r.status === 'rejected'));
    const err = (results[0] as PromiseRejectedResult).reason;
    assert.ok(err instanceof GenesysAuthError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_client');
    assert.match(err.message, /rejected the client credentials/);
    assert.ok(!err.message.includes('wrong-secret'));
    assert.equal(tm.status.state, 'failed');
    assert.equal(states.filter((s) => s.state === 'failed').length, 1, 'one failed event');
    tm.reset();
    await assert.rejects(tm.getToken(), GenesysAuthError);
    assert.equal(tokenCalls(), 2, 'an explicit reset allows exactly one more try');
  });

  it('unauthorized_client (400) is terminal too', async () => {
    forceOAuthError(sim, 'unauthorized_client');
    const tm = make();
    await assert.rejects(tm.getToken(), (e: GenesysAuthError) => e.status === 400 && e.code === 'unauthorized_client');
    await assert.rejects(tm.getToken(), GenesysAuthError);
    assert.equal(tokenCalls(), 1);
  });

  it('backs off on 5xx from the login host, then succeeds', async () => {
    sim.injectFault('/oauth/token', 503, 2);
    const tm = make();
    const states: TokenStatus[] = [];
    tm.on('state', (s: TokenStatus) => states.push(s));
    const t0 = Date.now();
    const token = await tm.getToken();
    const took = Date.now() - t0;
    assert.ok(sim.tokens.has(token));
    assert.equal(tokenCalls(), 3);
    const retrying = states.filter((s) => s.state === 'retrying');
    assert.equal(retrying.length, 2);
    assert.match(retrying[0].error!, /answered 503/);
    // jittered waits: each at least minMs (20), at most 40 then 80
    assert.ok(took >= 40 && took < 1000, `took ${took} ms`);
  });

  it('gives up after maxAttempts with the last error, and keeps backing off between calls', async () => {
    sim.injectFault('/oauth/token', 500, 100);
    const tm = make({ maxAttempts: 2, retry: { initialMs: 200, maxMs: 200, minMs: 200 } });
    await assert.rejects(tm.getToken(), (e: GenesysApiError) => e.status === 500 && !(e instanceof GenesysAuthError));
    assert.equal(tokenCalls(), 2);
    const t0 = Date.now();
    await assert.rejects(tm.getToken());
    assert.ok(Date.now() - t0 >= 180, 'the next call waited for the backoff instead of hammering');
    assert.equal(tokenCalls(), 4);
    tm.close();
  });

  it('treats a slow login host as a timeout and retries', async () => {
    const undo = sim.injectDelay('/oauth/token', 400);
    const tm = make({ requestTimeoutMs: 100, maxAttempts: 2 });
    setTimeout(undo, 60); // the first request still hangs; the retry finds a fast host
    const t0 = Date.now();
    const token = await tm.getToken();
    assert.ok(Date.now() - t0 >= 100, 'the first request timed out');
    assert.ok(sim.tokens.has(token));
    assert.equal(tm.tokenRequests, 2, 'one timed out, one answered');
    assert.equal(tm.status.state, 'ready');
  });

  it('starts failed without network calls when not configured', async () => {
    const tm = make({ clientSecret: '' });
    assert.equal(tm.status.state, 'failed');
    await assert.rejects(tm.getToken(), /client id and client secret are required/);
    assert.equal(tokenCalls(), 0);
  });

  it('close() rejects pending and later calls and stops timers', async () => {
    const undo = sim.injectDelay('/oauth/token', 500);
    const tm = make();
    const pending = tm.getToken();
    setTimeout(() => tm.close(), 50);
    await assert.rejects(pending, /closed/);
    await assert.rejects(tm.getToken(), /closed/);
    undo();
  });

  it('never puts the token or the secret into events, statuses or errors', async () => {
    const seen: string[] = [];
    sim.injectFault('/oauth/token', 502, 1);
    const tm = make();
    tm.on('state', (s) => seen.push(JSON.stringify(s)));
    tm.on('refreshError', (s) => seen.push(JSON.stringify(s)));
    const token = await tm.getToken();
    tm.invalidate(token);
    forceOAuthError(sim, 'invalid_client');
    const err = await tm.getToken().catch((e) => e);
    seen.push(err.message, JSON.stringify(err.body ?? null), JSON.stringify(tm.status));
    const text = seen.join('\n');
    assert.ok(text.length > 0);
    assert.ok(!text.includes(token));
    assert.ok(!text.includes(DEFAULT_CLIENT.secret));
    assert.ok(!text.includes(Buffer.from(`${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}`).toString('base64')));
  });
});
