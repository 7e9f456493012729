import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { AnalyticsSocket, realtimeUrl, redact, type AnalyticsSocketOptions, type AnalyticsSocketState, type AnalyticsStateInfo } from '../../lib/genesys/analytics-socket';
import type { AnalyticsEventMessage, AnalyticsSubscribe } from '../../lib/genesys/shapes';
import type { TokenProvider } from '../../lib/genesys/types';
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';
import type { AnalyticsSocketState as SimAnalytics } from '../../simulator/routes/analytics-ws';
import { TrafficGenerator } from '../../simulator/traffic';
import type { ConversationChange } from '../../simulator/world';
import { SimTokenProvider } from './support-token';

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('AnalyticsSocket (realtime analytics client, guide 004)', () => {
  let sim: GenesysSimulator;
  let analytics: SimAnalytics;
  let tokens: SimTokenProvider;
  let socket: AnalyticsSocket | null;
  let states: [AnalyticsSocketState, AnalyticsStateInfo][];
  let events: AnalyticsEventMessage[];
  let logs: string[];

  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    analytics = sim.state.analytics;
    tokens = new SimTokenProvider(sim.baseUrl);
    socket = null;
    states = [];
    events = [];
    logs = [];
  });
  afterEach(async () => {
    await socket?.close();
    await sim.stop();
  });

  function open(opts: Partial<AnalyticsSocketOptions> = {}): AnalyticsSocket {
    socket = new AnalyticsSocket({
      tokens, apiBase: sim.baseUrl, reconnect: { initialMs: 30, maxMs: 120, minMs: 5 },
      log: (level, m) => logs.push(`${level} ${m}`), ...opts,
    });
    socket.on('state', (s, info) => states.push([s, info]));
    socket.on('event', (m) => events.push(m));
    socket.start();
    return socket;
  }
  const connected = () => socket?.state === 'connected';
  const ids = (list: AnalyticsEventMessage[]) => list.map((e) => `${e.data.conversationId}:${e.data.sequence}`).sort();

  it('sends the subscribe with its filters and receives exactly the matching events', async () => {
    const gen = new TrafficGenerator(sim.world, { seed: 5, queues: 3, agents: 6, maxConcurrent: 20 });
    const filters: AnalyticsSubscribe['filters'] = { queueIds: [gen.queues[0].id], mediaTypes: ['voice', 'chat'] };
    open({ subscription: { type: 'conversation', filters } });
    await waitFor(() => analytics.subscriptions.length === 1, 'subscribe');
    assert.deepEqual(analytics.subscriptions[0], { type: 'conversation', filters });
    assert.deepEqual(states.map((s) => s[0]), ['connecting', 'connected']);

    const expected: string[] = [];
    let total = 0;
    sim.world.on('change', (c: ConversationChange) => {
      total++;
      const v = c.conversation;
      if (v.queueId === gen.queues[0].id && (v.mediaType === 'voice' || v.mediaType === 'chat')) expected.push(`${v.id}:${v.seq}`);
    });
    gen.generate(600);
    gen.finish();
    assert.ok(expected.length > 20 && expected.length < total / 2, `a real filter: ${expected.length} of ${total}`);
    await waitFor(() => events.length >= expected.length, 'matching events');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(ids(events), expected.sort());
    assert.ok(events.every((e) => e.data.queueId === gen.queues[0].id && ['voice', 'chat'].includes(e.data.type)));
    const ledger = sim.ledger.byPath('analytics-ws');
    assert.equal(ledger.length, expected.length);
    assert.ok(ledger.every((e) => e.delivered));
  });

  it('reconnects after a drop with a fresh getToken, reports the gap, and events resume', async () => {
    const gen = new TrafficGenerator(sim.world, { seed: 8, maxConcurrent: 10 });
    const gaps: { from: string; to: string }[] = [];
    open({ subscription: { type: 'conversation', filters: { mediaTypes: ['voice', 'chat', 'email', 'sms'] } } });
    socket!.on('gap', (g) => gaps.push(g));
    await waitFor(() => analytics.subscriptions.length === 1, 'first subscribe');
    gen.generate(50);
    await waitFor(() => events.length === 50, 'events before the drop');

    const droppedAt = Date.now();
    analytics.dropAll();
    gen.generate(30); // published while the socket is down: lost, as on the platform
    await waitFor(() => analytics.subscriptions.length === 2, 'resubscribe after the drop');
    assert.ok(connected());
    assert.ok(states.some(([s, i]) => s === 'reconnecting' && i.delayMs !== undefined && i.delayMs <= 120));
    assert.equal(tokens.getTokenCalls, 2, 'token asked for again on reconnect');
    assert.equal(analytics.connections, 2);
    assert.deepEqual(analytics.subscriptions[1], analytics.subscriptions[0]);
    assert.equal(gaps.length, 1);
    assert.ok(Date.parse(gaps[0].from) <= droppedAt && Date.parse(gaps[0].to) >= droppedAt);

    gen.generate(40);
    await waitFor(() => events.length === 90, 'events after the reconnect');
    const ledger = sim.ledger.byPath('analytics-ws');
    assert.equal(ledger.length, 120);
    assert.equal(ledger.filter((e) => !e.delivered).length, 30, 'the gap is on the ledger as undelivered');
    assert.deepEqual(ids(events), ledger.filter((e) => e.delivered).map((e) => e.eventId).sort());
  });

  it('on a 401 handshake invalidates the token and retries once at once with a new one', async () => {
    open();
    await waitFor(connected, 'connected');
    const first = tokens.issued[0];
    sim.revokeAllTokens();
    analytics.dropAll();
    await waitFor(() => analytics.connections === 2 && connected(), 'reconnected with a new token');
    assert.deepEqual(tokens.invalidated, [first]);
    assert.equal(tokens.fetches, 2);
    assert.notEqual(tokens.issued[1], first);
    assert.equal(analytics.rejected, 1);
    assert.ok(logs.some((l) => l.includes('401')));
    assert.ok(logs.every((l) => !l.includes(first) && !l.includes(tokens.issued[1])), 'tokens never logged');
  });

  it('backs off when tokens keep being refused (no retry storm)', async () => {
    const invalidated: string[] = [];
    const bogus: TokenProvider = { getToken: async () => 'not-a-token', invalidate: (t) => { invalidated.push(t); } };
    open({ tokens: bogus, reconnect: { initialMs: 40, maxMs: 160, minMs: 20 } });
    await new Promise((r) => setTimeout(r, 600));
    const attempts = analytics.rejected;
    assert.ok(attempts >= 3 && attempts <= 16, `${attempts} handshakes in 600 ms`);
    assert.equal(invalidated.length, attempts);
    const reasons = states.filter(([s]) => s === 'reconnecting').map(([, i]) => i.reason);
    assert.ok(reasons.length >= attempts - 2 && reasons.every((r) => r === 'HTTP 401'), JSON.stringify(reasons));
    assert.ok(logs.every((l) => !l.includes('not-a-token')));
  });

  it('rides out refused handshakes (rejectNext) with backoff', async () => {
    analytics.rejectNext(2, 503);
    open();
    await waitFor(connected, 'connected after two refusals');
    assert.equal(analytics.rejected, 2);
    assert.deepEqual(states.map(([s, i]) => `${s}${i.reason ? ' ' + i.reason : ''}`), ['connecting', 'reconnecting HTTP 503', 'reconnecting HTTP 503', 'connected']);
  });

  it('terminates a dead socket (no message or pong in time) and reconnects', async () => {
    open({ pingIntervalMs: 40, deadAfterMs: 200 });
    await waitFor(connected, 'connected');
    analytics.stall();
    const t0 = Date.now();
    await waitFor(() => analytics.connections === 2 && connected(), 'reconnected', 3000);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.ok(states.some(([s, i]) => s === 'reconnecting' && i.reason === 'dead socket'));
  });

  it('keeps a healthy idle socket (pongs count as life)', async () => {
    open({ pingIntervalMs: 30, deadAfterMs: 100 });
    await waitFor(connected, 'connected');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(analytics.connections, 1);
    assert.ok(connected());
  });

  it('surfaces a refused subscribe as server-error, and updateSubscription sends a new one', async () => {
    const errors: Record<string, unknown>[] = [];
    open({ subscription: { type: 'conversation', filters: { mediaTypes: ['fax' as 'voice'] } } });
    socket!.on('server-error', (m) => errors.push(m));
    await waitFor(() => errors.length === 1, 'server error');
    assert.equal(errors[0].type, 'error');
    assert.match(String(errors[0].message), /fax/);
    assert.equal(analytics.subscriptions.length, 0);
    socket!.updateSubscription({ type: 'conversation', filters: { mediaTypes: ['email'] } });
    await waitFor(() => analytics.subscriptions.length === 1, 'second subscribe');
    assert.deepEqual(analytics.subscriptions[0].filters, { mediaTypes: ['email'] });
  });

  it('emits malformed frames as malformed (never dropped) and duplicates as delivered', async () => {
    const malformed: string[] = [];
    open();
    socket!.on('malformed', (raw) => malformed.push(raw));
    await waitFor(() => analytics.subscriptions.length === 1, 'subscribe');
    const flagged: ConversationChange[] = [];
    sim.world.on('change', (c: ConversationChange) => flagged.push(c));
    const gen = new TrafficGenerator(sim.world, { seed: 21, malformedRate: 0.1, duplicateRate: 0.1 });
    gen.generate(300);
    const bad = flagged.filter((c) => c.delivery?.malformed);
    const good = flagged.filter((c) => !c.delivery?.malformed);
    const expectedEvents = good.length + good.filter((c) => c.delivery?.duplicate).length;
    const expectedBad = bad.length + bad.filter((c) => c.delivery?.duplicate).length;
    assert.ok(bad.length > 10);
    await waitFor(() => events.length === expectedEvents && malformed.length === expectedBad, 'all frames');
    for (const c of bad) assert.ok(malformed.some((raw) => raw.includes(c.conversation.id)), 'malformed frame names its conversation');
  });

  it('derives ws URLs from API bases and redacts tokens', () => {
    assert.equal(realtimeUrl('https://api.mypurecloud.ie'), 'wss://api.mypurecloud.ie/api/v2/analytics/realtime');
    assert.equal(realtimeUrl('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/api/v2/analytics/realtime');
    assert.equal(realtimeUrl('wss://x.example/api/v2/analytics/realtime?access_token=abc'), 'wss://x.example/api/v2/analytics/realtime');
    assert.equal(redact('GET wss://h/p?access_token=abc.def&x=1 failed'), 'GET wss://h/p?access_token=[redacted]&x=1 failed');
    assert.equal(redact('Authorization: Bearer eyJ.abc'), 'Authorization: Bearer [redacted]');
  });

  it('close() leaves no handles: a child process exits by itself', async function () {
    this.timeout(30000);
    const root = path.resolve(__dirname, '../..');
    const script = `
      const { AnalyticsSocket } = require(${JSON.stringify(path.join(root, 'lib/genesys/analytics-socket.ts'))});
      const base = process.env.SIM_BASE;
      const tokens = {
        async getToken() {
          const r = await fetch(base + '/oauth/token', { method: 'POST', body: 'grant_type=client_credentials',
            headers: { authorization: 'Basic ' + Buffer.from(process.env.SIM_CLIENT).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' } });
          return (await r.json()).access_token;
        },
        invalidate() {},
      };
      const until = (s, state) => new Promise((r) => { if (s.state === state) r(); else s.on('state', (x) => { if (x === state) r(); }); });
      (async () => {
        const a = new AnalyticsSocket({ tokens, apiBase: base, pingIntervalMs: 20, deadAfterMs: 1000 });
        a.start(); await until(a, 'connected'); await a.close();
        const b = new AnalyticsSocket({ tokens, apiBase: 'http://127.0.0.1:1', reconnect: { initialMs: 20000, minMs: 10000 } });
        b.start(); await until(b, 'reconnecting'); await b.close();
        const c = new AnalyticsSocket({ tokens, apiBase: base });
        c.start(); await c.close();
        console.log('CLOSED ' + [a.state, b.state, c.state].join(','));
      })();`;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: root, env: { ...process.env, SIM_BASE: sim.baseUrl, SIM_CLIENT: `${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}` }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let closedAt = 0;
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve) => {
      // A leaked handle keeps the child alive: give it 3 s after close() (25 s to start up on a busy machine).
      const giveUp = (ms: number) => setTimeout(() => { child.kill('SIGKILL'); resolve(-1); }, ms);
      let kill = giveUp(25000);
      child.stdout.on('data', (d) => {
        out += d;
        if (!closedAt && out.includes('CLOSED')) { closedAt = Date.now(); clearTimeout(kill); kill = giveUp(3000); }
      });
      child.on('exit', (c) => { clearTimeout(kill); resolve(c); });
    });
    assert.equal(code, 0, `child exit ${code}: ${out} ${err}`);
    assert.match(out, /CLOSED closed,closed,closed/);
    assert.ok(Date.now() - closedAt < 2000, `exited ${Date.now() - closedAt} ms after close()`);
  });
});
