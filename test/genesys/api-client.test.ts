import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { GenesysSimulator, DEFAULT_CLIENT, sendJson } from '../../simulator/server';
import { TokenManager } from '../../lib/genesys/token-manager';
import { GenesysApiClient, parseRateLimit } from '../../lib/genesys/api-client';
import { parseRetryAfter } from '../../lib/genesys/backoff';
import { GenesysApiError } from '../../lib/genesys/types';

describe('genesys API client (against the simulator)', () => {
  let sim: GenesysSimulator;
  let tm: TokenManager;
  let api: GenesysApiClient;
  const convId = 'c0ffee00-0000-4000-8000-000000000001';

  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    sim.world.start({ id: convId, mediaType: 'voice', direction: 'inbound', queueId: 'q1', queueName: 'Support', customerAddress: 'tel:+15550001', startTime: new Date().toISOString() });
    tm = new TokenManager({ tokenUrl: `${sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
    api = new GenesysApiClient({ apiBase: sim.baseUrl, tokens: tm, retry: { initialMs: 30, maxMs: 120, minMs: 10 } });
  });
  afterEach(async () => { api.close(); tm.close(); await sim.stop(); });

  const get = (path = `/api/v2/conversations/${convId}`, extra = {}) => api.request({ method: 'GET', path, ...extra });

  it('sends the bearer token and parses JSON and the inin-ratelimit headers', async () => {
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.body.id, convId);
    assert.deepEqual(res.rateLimit, { remaining: 299, allowed: 300, resetSeconds: 60 });
    assert.equal(res.headers['inin-ratelimit-allowed'], '300');
    assert.deepEqual(api.lastRateLimit, res.rateLimit);
  });

  it('reads X-RateLimit-* (guide 002) as well, including an epoch reset', () => {
    assert.deepEqual(parseRateLimit({ 'x-ratelimit-remaining': '7', 'x-ratelimit-limit': '10', 'x-ratelimit-reset': '30' }), { remaining: 7, allowed: 10, resetSeconds: 30 });
    const epoch = parseRateLimit({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 20) })!;
    assert.ok(epoch.resetSeconds! > 18 && epoch.resetSeconds! <= 20);
    assert.equal(parseRateLimit({ 'content-type': 'application/json' }), undefined);
    assert.deepEqual(parseRateLimit({ 'inin-ratelimit-count': '310', 'inin-ratelimit-allowed': '300' }), { remaining: 0, allowed: 300 });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-05-01T00:00:00Z');
    assert.equal(parseRetryAfter('42', now), 42_000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Tue, 30 Apr 2024 00:00:05 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('401 → invalidates, refreshes once and retries once', async () => {
    const first = await tm.getToken();
    sim.revokeAllTokens();
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(sim.count('POST /oauth/token'), 2, 'one refresh');
    assert.equal(sim.count(`GET /api/v2/conversations/${convId}`), 2, 'one retry');
    assert.notEqual(await tm.getToken(), first);
  });

  it('50 concurrent requests hitting 401 share one refresh', async () => {
    await tm.getToken();
    sim.revokeAllTokens();
    const results = await Promise.all(Array.from({ length: 50 }, () => get()));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(sim.count('POST /oauth/token'), 2, 'the first token and one refresh');
  });

  it('a second 401 after the fresh token fails with GenesysApiError 401, no loop', async () => {
    sim.injectFault('/api/v2/conversations/', 401, 5);
    await assert.rejects(get(), (e: GenesysApiError) => e.status === 401 && /fresh token/.test(e.message));
    assert.equal(sim.count(`GET /api/v2/conversations/${convId}`), 2);
    assert.equal(sim.count('POST /oauth/token'), 2);
  });

  it('429 waits Retry-After (seconds) and retries', async () => {
    sim.injectFault('/api/v2/conversations/', 429, 1, 1);
    const throttled: unknown[] = [];
    api.on('throttled', (e) => throttled.push(e));
    const t0 = Date.now();
    const res = await get();
    const took = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.ok(took >= 950 && took < 2000, `waited ${took} ms for Retry-After: 1`);
    assert.equal(throttled.length, 1);
  });

  it('429 with a Retry-After beyond maxRetryAfterMs fails at once with retryAfterMs', async () => {
    const short = new GenesysApiClient({ apiBase: sim.baseUrl, tokens: tm, maxRetryAfterMs: 500 });
    sim.injectFault('/api/v2/conversations/', 429, 1, 42);
    const t0 = Date.now();
    await assert.rejects(short.request({ method: 'GET', path: `/api/v2/conversations/${convId}` }),
      (e: GenesysApiError) => e.status === 429 && e.retryAfterMs === 42_000 && (e.body as any).code === 'too.many.requests.retry.after');
    assert.ok(Date.now() - t0 < 300);
    short.close();
  });

  it('the simulator per-token limit: 429 with Retry-After; the client pauses every request and gets through', async () => {
    sim.setRateLimit(3, 1000);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, () => get()));
    const took = Date.now() - t0;
    assert.ok(results.every((r) => r.status === 200));
    assert.ok(took >= 700 && took < 3500, `took ${took} ms`);
    assert.ok(sim.count(`429 /api/v2/conversations/${convId}`) <= 3, 'not a storm of 429s');
  });

  it('remaining = 0 pauses before the limit is hit (proactive throttle)', async () => {
    sim.setRateLimit(2, 1000);
    await get();
    const second = await get();
    assert.equal(second.rateLimit!.remaining, 0);
    const t0 = Date.now();
    await get();
    assert.ok(Date.now() - t0 >= 500, 'waited for the window');
    assert.equal(sim.count(`429 /api/v2/conversations/${convId}`), 0, 'no 429 at all');
  });

  it('5xx → backoff with jitter, then success; exhausted retries → the status', async () => {
    sim.injectFault('/api/v2/conversations/', 503, 2);
    assert.equal((await get()).status, 200);
    assert.equal(sim.count(`GET /api/v2/conversations/${convId}`), 3);
    sim.injectFault('/api/v2/conversations/', 500, 10);
    await assert.rejects(get(undefined, { maxRetries: 1 }), (e: GenesysApiError) => e.status === 500);
  });

  it('other 4xx → GenesysApiError with status and body, no retry; acceptStatus returns it', async () => {
    await assert.rejects(get('/api/v2/conversations/nope'), (e: GenesysApiError) =>
      e instanceof GenesysApiError && e.status === 404 && (e.body as any).code === 'not.found' && /GET \/api\/v2\/conversations\/nope answered 404/.test(e.message));
    assert.equal(sim.count('GET /api/v2/conversations/nope'), 1);
    const res = await get('/api/v2/conversations/nope', { acceptStatus: [404] });
    assert.equal(res.status, 404);
    const bad = await api.request({ method: 'POST', path: '/api/v2/analytics/conversations/details/query', body: { interval: 'x' } }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.match(bad.message, /interval/);
  });

  it('times out slow answers, retries, and reports the timeout', async () => {
    const undo = sim.injectDelay('/api/v2/conversations/', 300);
    await assert.rejects(get(undefined, { timeoutMs: 80, maxRetries: 1 }), (e: GenesysApiError) => e.status === 0 && /timed out after 80 ms/.test(e.message));
    undo();
  });

  it('honours the caller abort signal', async () => {
    const undo = sim.injectDelay('/api/v2/conversations/', 300);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(get(undefined, { signal: ac.signal }), /aborted/);
    undo();
  });

  it('uses keep-alive: many requests reuse few connections', async () => {
    let connections = 0;
    sim.route('GET', '/api/v2/test/ping', (req, res) => sendJson(res, 200, { ok: true }));
    const server: any = (sim as any).server;
    server.on('connection', () => { connections++; });
    for (let i = 0; i < 20; i++) await get('/api/v2/test/ping');
    assert.ok(connections <= 2, `${connections} connections for 20 sequential requests`);
  });

  it('leaves no listeners on its long-lived close signal (no per-request leak)', async () => {
    const closing = (api as any).closing.signal as AbortSignal;
    await Promise.all(Array.from({ length: 30 }, () => get()));
    sim.injectFault('/api/v2/conversations/', 503, 1);
    await get();
    assert.equal(getEventListeners(closing, 'abort').length, 0);
  });

  it('never puts the token into error messages', async () => {
    const token = await tm.getToken();
    sim.injectFault('/api/v2/conversations/', 400, 1, undefined, { message: 'bad thing', code: 'bad.request', status: 400 });
    const err = await get().catch((e) => e);
    assert.ok(!err.message.includes(token) && !JSON.stringify(err.body).includes(token));
  });
});
