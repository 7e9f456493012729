import { strict as assert } from 'node:assert';
import { JwtVerifier } from '../../lib/ingest/jwt';
import { registrationBody, validateRegistration } from '../../lib/ingest/push-registration';
import { StaticSecrets } from '../../lib/ingest/secrets';
import type { PushState } from '../../simulator/routes/push';
import type { GenesysSimulator } from '../../simulator/server';
import { api, AUD, conversation, registration, SECRET, simulatorWithToken, sleep, targetServer } from './support';

describe('simulator push delivery (guide 000)', () => {
  let sim: GenesysSimulator;
  let token: string;
  let target: Awaited<ReturnType<typeof targetServer>> | null = null;
  const push = () => sim.state.push as PushState;
  beforeEach(async () => { ({ sim, accessToken: token } = await simulatorWithToken()); });
  afterEach(async () => { await sim.stop(); await target?.close(); target = null; });

  it('registers, lists, reads, updates and deletes a subscription without echoing the secret', async () => {
    target = await targetServer();
    const created = await api(sim, token, 'POST', '/api/v2/notifications', registration(target.url, { filter: "type == 'voice'" }));
    assert.equal(created.status, 201);
    assert.equal(created.body.resource, 'realtime:interaction');
    assert.equal(created.body.audience, AUD, 'default audience');
    assert.equal(created.body.security.signingSecret, undefined);
    const id = created.body.id;
    assert.equal((await api(sim, token, 'GET', '/api/v2/notifications')).body.entities.length, 1);
    assert.equal((await api(sim, token, 'GET', `/api/v2/notifications/${id}`)).body.filter, "type == 'voice'");
    const updated = await api(sim, token, 'PUT', `/api/v2/notifications/${id}`, registration(target.url, { filter: "type == 'chat'", audience: 'aud-2' }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.audience, 'aud-2');
    assert.equal((await api(sim, token, 'DELETE', `/api/v2/notifications/${id}`)).status, 204);
    assert.equal((await api(sim, token, 'GET', `/api/v2/notifications/${id}`)).status, 404);
    assert.equal((await api(sim, token, 'DELETE', `/api/v2/notifications/${id}`)).status, 404);
  });

  it("accepts the node's registration body as the endpoint validates it", () => {
    const body = registrationBody({
      name: 'n', filter: "type == 'voice'", targetUrl: 'https://ingest.example.com/genesys/webhook', audience: 'lake', signingSecret: SECRET,
      secretEncoding: 'text', retry: { maxRetries: 5, initialDelayMs: 1000, maxDelayMs: 60000, backoffMultiplier: 2 }, batchSize: 50,
    });
    const v = validateRegistration(body);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.reg.batchSize, 50);
    assert.equal(v.reg.audience, 'lake');
  });

  it('refuses bad registrations with a reason (invalid filter, algorithm, resource) and needs an OAuth token', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [registration('http://x/', { filter: "wrapUpCode.code == 'SALE'" }), /invalid filter: 'wrapUpCode.code' is not a field/],
      [registration('http://x/', { filter: "type == 'voice' &&" }), /invalid filter: expression ends too early/],
      [registration('http://x/', { security: { type: 'jwt', signingAlgorithm: 'RS256', signingSecret: 's' } }), /HS256/],
      [registration('http://x/', { resource: 'realtime:queue' }), /resource/],
      [registration('ftp://x/'), /target.url/],
      [registration('http://x/', { retry: { maxRetries: -1 } }), /maxRetries/],
    ];
    for (const [body, re] of bad) {
      const r = await api(sim, token, 'POST', '/api/v2/notifications', body);
      assert.equal(r.status, 400, String(re));
      assert.match(r.body.message, re);
    }
    assert.equal((await api(sim, 'nope', 'POST', '/api/v2/notifications', registration('http://x/'))).status, 401);
  });

  it('POSTs signed, filtered PushNotifications and records each in the ledger', async () => {
    target = await targetServer();
    await api(sim, token, 'POST', '/api/v2/notifications', registration(target.url, { filter: "type == 'voice' && queue.id != null", audience: 'lake' }));
    const v = sim.world.start(conversation());
    sim.world.start(conversation({ mediaType: 'chat' }));
    sim.world.update(v.id, { state: 'connected', agentId: 'a1', agentName: 'Ann', connectedTime: new Date().toISOString() });
    await push().idle();
    assert.equal(target.received.length, 2, 'the chat was filtered out');
    const verifier = new JwtVerifier({ secrets: new StaticSecrets([SECRET]), issuer: 'genesys-cloud', audience: 'lake' });
    for (const r of target.received) {
      const vr = verifier.verifyAuthorization(r.headers.authorization);
      assert.ok(vr.ok, JSON.stringify(vr));
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.body.data.conversationId, v.id);
    }
    const [first, second] = target.received.map((r) => r.body);
    assert.equal(first.data.state, 'waiting');
    assert.equal(second.data.state, 'connected');
    assert.deepEqual(second.data.agent, { id: 'a1', name: 'Ann' });
    assert.equal(second.metadata.eventId, `${v.id}:2`);
    assert.equal(second.metadata.sequence, 2);
    assert.equal(second.metadata.deliveryAttempt, 1);
    const ledger = sim.ledger.byPath('push');
    assert.deepEqual(ledger.map((e) => [e.eventId, e.delivered]), [[`${v.id}:1`, true], [`${v.id}:2`, true]]);
  });

  it('retries 429 (honouring Retry-After) and 5xx with exponential backoff, not 4xx; gives up after maxRetries', async () => {
    target = await targetServer((r, n) => {
      const conv = r.body.data.conversationId as string;
      if (conv.endsWith('1') && n <= 3) return n === 1 ? [429, { 'retry-after': '0.15' }] : [503];
      if (conv.endsWith('2')) return [400];
      if (conv.endsWith('3')) return [500];
      return [200];
    });
    await api(sim, token, 'POST', '/api/v2/notifications', registration(target.url, { concurrency: 1, retry: { maxRetries: 3, initialDelayMs: 20, maxDelayMs: 50, backoffMultiplier: 2 } }));
    const ids = ['1', '2', '3'].map((d) => conversation({ id: `00000000-0000-4000-8000-00000000000${d}` }));
    for (const c of ids) sim.world.start(c);
    await push().idle();
    const attempts = push().attempts;
    const first = attempts.filter((a) => a.events === 1).slice(0, 4);
    assert.deepEqual(first.map((a) => a.status), [429, 503, 503, 200]);
    assert.equal(first[0].retryInMs, 150, 'Retry-After wins');
    assert.deepEqual(first.slice(1, 3).map((a) => a.retryInMs), [40, 50], 'backoff doubles, capped at maxDelayMs');
    const received = target.received.map((r) => r.body.data.conversationId.slice(-1));
    assert.equal(received.filter((d) => d === '2').length, 1, '400 is not retried');
    assert.equal(received.filter((d) => d === '3').length, 4, '500: first attempt + 3 retries');
    const ledger = Object.fromEntries(sim.ledger.byPath('push').map((e) => [e.conversationId.slice(-1), e.delivered]));
    assert.deepEqual(ledger, { 1: true, 2: false, 3: false });
  });

  it('retries transport errors (target down) until it comes up', async () => {
    target = await targetServer();
    const url = target.url;
    await target.close();
    await api(sim, token, 'POST', '/api/v2/notifications', registration(url, { retry: { maxRetries: 20, initialDelayMs: 30, maxDelayMs: 30, backoffMultiplier: 1 } }));
    sim.world.start(conversation());
    await sleep(100);
    assert.ok(push().attempts.filter((a) => a.status === 'error').length >= 2);
    assert.equal(push().pending(), 1);
    assert.equal(sim.ledger.byPath('push').length, 0, 'no ledger entry while still retrying');
    target = await targetServer(undefined, Number(new URL(url).port));
    await push().idle();
    assert.deepEqual(sim.ledger.byPath('push').map((e) => e.delivered), [true]);
    assert.equal(target.received.length, 1);
  });

  it('honours delivery flags: duplicate, delayed (out of order) and malformed', async () => {
    target = await targetServer();
    await api(sim, token, 'POST', '/api/v2/notifications', registration(target.url, { concurrency: 1 }));
    const c = sim.world.start(conversation(), { duplicate: true });
    sim.world.update(c.id, { state: 'alerting' }, { delayMs: 60 });
    sim.world.update(c.id, { state: 'connected' }, { malformed: true });
    await push().idle();
    const seen = target.received.map((r) => r.body.metadata.sequence);
    assert.deepEqual(seen, [1, 1, 3, 2]);
    const malformed = target.received.find((r) => r.body.metadata.sequence === 3)!.body;
    assert.equal(malformed.data.conversationId, undefined);
    const ledger = sim.ledger.byPath('push');
    assert.equal(ledger.length, 3, 'one entry per event, duplicates included');
    assert.equal(ledger.find((e) => e.seq === 3)!.malformed, true);
  });

  it('pushes at least 10k events/s in batches of 100 on loopback', async function () {
    target = await targetServer();
    await api(sim, token, 'POST', '/api/v2/notifications', registration(target.url, { batchSize: 100, concurrency: 4 }));
    const n = 20000;
    // The world publishes synchronously and the sender starts on the next turn: the clock measures sending only.
    for (let i = 0; i < n / 4; i++) {
      const c = sim.world.start(conversation());
      sim.world.update(c.id, { state: 'alerting' });
      sim.world.update(c.id, { state: 'connected', connectedTime: new Date().toISOString() });
      sim.world.update(c.id, { state: 'ended', endTime: new Date().toISOString() });
    }
    const t0 = process.hrtime.bigint();
    await push().idle(20000);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const events = target.received.reduce((k, r) => k + r.body.length, 0);
    assert.equal(events, n);
    assert.ok(Array.isArray(target.received[0].body) && target.received[0].body.length === 100);
    const rate = n / secs;
    console.log(`      push sender: ${n} events in ${secs.toFixed(2)} s = ${Math.round(rate)} events/s`);
    assert.ok(rate >= 10000, `${Math.round(rate)} events/s`);
    assert.equal(sim.ledger.byPath('push').filter((e) => e.delivered).length, n);
  });
});
