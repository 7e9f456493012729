// The simulator's side of the realtime analytics socket (simulator/routes/analytics-ws.ts), driven by a raw ws client.
import { strict as assert } from 'node:assert';
import { WebSocket } from 'ws';
import type { AnalyticsEventMessage } from '../../lib/genesys/shapes';
import { GenesysSimulator } from '../../simulator/server';
import type { AnalyticsSocketState as SimAnalytics } from '../../simulator/routes/analytics-ws';
import { TrafficGenerator } from '../../simulator/traffic';
import { SimTokenProvider } from './support-token';

const PATH = '/api/v2/analytics/realtime';

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Status of a refused handshake, or 101 when it opened. */
function handshake(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { ws.terminate(); resolve({ status: res.statusCode ?? 0, body }); });
    });
    ws.on('open', () => { ws.close(); resolve({ status: 101, body: '' }); });
    ws.on('error', (err) => { if (!/Unexpected|closed before/.test(err.message)) reject(err); });
  });
}

describe('simulator: realtime analytics socket (guide 004)', () => {
  let sim: GenesysSimulator;
  let analytics: SimAnalytics;
  let token: string;
  const clients: WebSocket[] = [];

  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    analytics = sim.state.analytics;
    token = await new SimTokenProvider(sim.baseUrl).getToken();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await sim.stop();
  });

  async function connect(subscribe?: unknown): Promise<{ ws: WebSocket; frames: string[] }> {
    const ws = new WebSocket(`${sim.wsBaseUrl}${PATH}?access_token=${token}`);
    clients.push(ws);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    if (subscribe !== undefined) {
      ws.send(typeof subscribe === 'string' ? subscribe : JSON.stringify(subscribe));
      await waitFor(() => frames.length > 0, 'subscribe answer');
    }
    return { ws, frames };
  }

  it('answers 401 on the handshake for a missing, unknown or expired token', async () => {
    assert.equal((await handshake(`${sim.wsBaseUrl}${PATH}`)).status, 401);
    const bad = await handshake(`${sim.wsBaseUrl}${PATH}?access_token=nope`);
    assert.equal(bad.status, 401);
    assert.equal(JSON.parse(bad.body).code, 'bad.credentials');
    sim.tokens.get(token)!.expiresAt = Date.now() - 1;
    assert.equal((await handshake(`${sim.wsBaseUrl}${PATH}?access_token=${token}`)).status, 401);
    assert.equal(analytics.rejected, 3);
    assert.equal(analytics.connections, 0);
    assert.equal((await handshake(`${sim.wsBaseUrl}${PATH}/other?access_token=${token}`)).status, 404);
  });

  it('refuses the next n handshakes on request, then accepts', async () => {
    analytics.rejectNext(2, 429);
    const url = `${sim.wsBaseUrl}${PATH}?access_token=${token}`;
    assert.deepEqual([(await handshake(url)).status, (await handshake(url)).status, (await handshake(url)).status], [429, 429, 101]);
  });

  it('answers a bad subscribe with {type:"error"} and keeps the socket for a good one', async () => {
    const { ws, frames } = await connect('not json');
    const answers: Record<string, unknown>[] = [];
    for (const bad of [{ type: 'queue' }, { type: 'conversation', filters: { queueIds: 'q1' } }, { type: 'conversation', filters: { skills: ['x'] } }, [1]]) {
      ws.send(JSON.stringify(bad));
    }
    ws.send(JSON.stringify({ type: 'conversation', filters: { userIds: ['u1'] } }));
    await waitFor(() => frames.length === 6, 'six answers');
    for (const f of frames) answers.push(JSON.parse(f));
    assert.deepEqual(answers.map((a) => a.type), ['error', 'error', 'error', 'error', 'error', 'info']);
    assert.match(String(answers[0].message), /JSON/);
    assert.match(String(answers[2].message), /queueIds/);
    assert.match(String(answers[3].message), /skills/);
    assert.deepEqual(analytics.subscriptions, [{ type: 'conversation', filters: { userIds: ['u1'] } }]);
  });

  it('renders start/update/end events with participants, metrics, sequence and drift fields', async () => {
    const { frames } = await connect({ type: 'conversation' });
    const gen = new TrafficGenerator(sim.world, { seed: 4, maxConcurrent: 1, driftRate: 1, abandonRate: 0, noAnswerRate: 0, transferRate: 0, holdRate: 0, timeFactor: 0 });
    gen.generate(1);
    gen.finish();
    await waitFor(() => frames.length === 6, 'ack + five events');
    const events = frames.slice(1).map((f) => JSON.parse(f) as AnalyticsEventMessage);
    assert.deepEqual(events.map((e) => e.eventType), ['conversation:start', 'conversation:update', 'conversation:update', 'conversation:update', 'conversation:end']);
    assert.deepEqual(events.map((e) => e.data.sequence), [1, 2, 3, 4, 5]);
    assert.deepEqual(events.map((e) => e.data.state), ['active', 'active', 'active', 'active', 'ended']);
    const conv = sim.world.get(events[0].data.conversationId)!;
    const connected = events[2];
    assert.equal(connected.type, 'event');
    assert.equal(connected.data.type, conv.mediaType);
    assert.equal(connected.data.queueId, conv.queueId);
    assert.ok(!Number.isNaN(Date.parse(connected.timestamp)));
    const roles = Object.fromEntries(connected.data.participants.map((p) => [p.role, p]));
    assert.deepEqual(roles.agent, { id: conv.agentId, role: 'agent', state: 'connected', name: conv.agentName });
    assert.equal(roles.customer.name, conv.customerAddress);
    assert.equal(roles.acd.id, conv.queueId);
    assert.equal(roles.acd.name, conv.queueName);
    const end = events[4];
    assert.ok(end.data.participants.every((p) => p.state === 'disconnected'));
    for (const k of ['waitTime', 'talkTime', 'wrapUpTime'] as const) assert.equal(typeof end.data.metrics![k], 'number');
    assert.ok(events.every((e) => typeof (e.data as Record<string, any>).ai_sentiment?.score === 'number'), 'drift rides along');
  });

  it('honours filters, duplicates and out-of-order delays', async () => {
    const gen = new TrafficGenerator(sim.world, { seed: 12, queues: 2, maxConcurrent: 5, duplicateRate: 0.2, outOfOrderRate: 0.2, outOfOrderDelayMs: 40 });
    const q = gen.queues[1].id;
    const { frames } = await connect({ type: 'conversation', filters: { queueIds: [q] } });
    const flagged: { id: string; n: number }[] = [];
    sim.world.on('change', (c) => {
      if (c.conversation.queueId === q) flagged.push({ id: `${c.conversation.id}:${c.conversation.seq}`, n: c.delivery?.duplicate ? 2 : 1 });
    });
    gen.generate(300);
    const expected = flagged.reduce((a, f) => a + f.n, 0);
    await waitFor(() => frames.length === 1 + expected, 'all frames');
    const got = frames.slice(1).map((f) => JSON.parse(f) as AnalyticsEventMessage);
    assert.ok(got.every((e) => e.data.queueId === q));
    // Out of order: some conversation shows a later sequence before an earlier one.
    const lastSeq = new Map<string, number>();
    let overtaken = 0;
    for (const e of got) {
      if ((lastSeq.get(e.data.conversationId) ?? 0) > e.data.sequence!) overtaken++;
      lastSeq.set(e.data.conversationId, Math.max(lastSeq.get(e.data.conversationId) ?? 0, e.data.sequence!));
    }
    assert.ok(overtaken > 0, 'some events were overtaken');
    const ledger = sim.ledger.byPath('analytics-ws');
    assert.deepEqual(ledger.map((e) => e.eventId).sort(), flagged.map((f) => f.id).sort(), 'one ledger entry per event, duplicates not counted twice');
  });

  it('records the ledger only once the path is in use, and the gap as undelivered for the subscribed filters', async () => {
    const gen = new TrafficGenerator(sim.world, { seed: 13, queues: 2, maxConcurrent: 5 });
    gen.generate(20);
    assert.equal(sim.ledger.byPath('analytics-ws').length, 0, 'nobody ever connected: nothing recorded');
    const q = gen.queues[0].id;
    const { ws, frames } = await connect({ type: 'conversation', filters: { queueIds: [q] } });
    const onQ: string[] = [];
    sim.world.on('change', (c) => { if (c.conversation.queueId === q) onQ.push(`${c.conversation.id}:${c.conversation.seq}`); });
    gen.generate(40);
    await waitFor(() => frames.length === 1 + onQ.length, 'delivered');
    const delivered = onQ.length;
    ws.terminate();
    await waitFor(() => analytics.openSockets === 0, 'server saw the close');
    gen.generate(40);
    const ledger = sim.ledger.byPath('analytics-ws');
    assert.deepEqual(ledger.map((e) => e.eventId), onQ, 'only the subscribed queue is on the ledger');
    assert.ok(ledger.slice(0, delivered).every((e) => e.delivered));
    assert.ok(ledger.length > delivered && ledger.slice(delivered).every((e) => !e.delivered));
  });

  it('dropAll cuts every socket abruptly and stop() cleans held-back events', async () => {
    const a = await connect({ type: 'conversation' });
    const b = await connect({ type: 'conversation' });
    const codes: number[] = [];
    a.ws.on('close', (c) => codes.push(c));
    b.ws.on('close', (c) => codes.push(c));
    analytics.dropAll();
    await waitFor(() => codes.length === 2, 'both closed');
    assert.deepEqual(codes, [1006, 1006]);
    await connect({ type: 'conversation' });
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    new TrafficGenerator(sim.world, { seed: 1, outOfOrderRate: 1, outOfOrderDelayMs: 60_000 }).generate(5);
    assert.ok(timeouts() >= before + 5, 'five events held back'); // other routes may hold some too
    await sim.stop();
    assert.ok(timeouts() <= before, 'stop() cleared the held-back events');
  });
});
