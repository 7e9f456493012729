import { strict as assert } from 'node:assert';
import { GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { TrafficGenerator } from '../../simulator/traffic';
import { ChannelManager, type ChannelEvent, type ChannelGap, type ChannelManagerOptions } from '../../lib/genesys/channels/channel-manager';
import { ChannelLimitError, buildTopics } from '../../lib/genesys/channels/topics';
import { SimApi, SimTokens, waitFor, delay, missingFromLedger } from './support';

const QUEUES = [{ id: 'q-sales', name: 'Sales' }, { id: 'q-support', name: 'Support' }];
const TOPICS = buildTopics({ queueIds: QUEUES.map((q) => q.id) });
const FAST: Partial<ChannelManagerOptions> = { idleTimeoutMs: 1000, pingIntervalMs: 300, reconnect: { initialMs: 50, maxMs: 400 } };

describe('ChannelManager (simulator)', function () {
  this.timeout(20_000);
  let sim: GenesysSimulator;
  let st: ChannelsState;
  const managers: ChannelManager[] = [];
  let traffic: TrafficGenerator | null = null;

  async function startSim(opts: ConstructorParameters<typeof GenesysSimulator>[0] = {}): Promise<void> {
    sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0, ...opts });
    await sim.start();
    st = sim.state.channels;
  }
  function manager(extra: Partial<ChannelManagerOptions> = {}, api = new SimApi(sim)) {
    const m = new ChannelManager({ api, tokens: api.tokens, ...FAST, ...extra });
    const events: ChannelEvent[] = [];
    const gaps: ChannelGap[] = [];
    const warnings: string[] = [];
    m.on('event', (e) => events.push(e));
    m.on('gap', (g) => gaps.push(g));
    m.on('warn', (w) => warnings.push(w));
    managers.push(m);
    return { m, events, gaps, warnings, api };
  }
  function runTraffic(rate = 150): TrafficGenerator {
    traffic = new TrafficGenerator(sim.world, { seed: 11, ratePerSecond: rate, timeFactor: 0.002, queues: QUEUES, agents: 6, maxConcurrent: 30 });
    traffic.start();
    return traffic;
  }
  async function settle(emitted: ChannelEvent[][]): Promise<void> {
    await traffic?.stop({ finish: true });
    const bodies = () => emitted.flat().map((e) => e.eventBody);
    await waitFor(() => missingFromLedger(sim, bodies()).length === 0, 3000, 'every delivered ledger event to be emitted').catch(() => undefined);
    assert.deepEqual(missingFromLedger(sim, bodies()), []);
  }

  afterEach(async () => {
    await traffic?.stop();
    traffic = null;
    for (const m of managers.splice(0)) await m.stop();
    await sim.stop();
  });

  it('connects, emits events (never heartbeats), and loses nothing while connected', async () => {
    await startSim();
    const { m, events } = manager();
    await m.setTopics(TOPICS);
    assert.equal(m.status().state, 'connected');
    assert.equal(st.list().length, 1);
    runTraffic();
    await delay(800);
    await settle([events]);
    assert.ok(events.length > 50, `only ${events.length} events`);
    assert.ok(events.every((e) => TOPICS.includes(e.topicName) && e.channelId.startsWith('streaming-') && !Number.isNaN(Date.parse(e.receivedAt))));
    assert.ok(st.counts.heartbeats > 0);
  });

  it('socket_closing: make-before-break onto a new channel, no gap, nothing lost', async () => {
    await startSim();
    const { m, events, gaps } = manager();
    await m.setTopics(TOPICS);
    const first = m.channelIds()[0];
    runTraffic();
    await delay(300);
    st.sendSocketClosing(first, 2000);
    await waitFor(() => m.channelIds()[0] !== first, 3000, 'replacement channel');
    // The old channel was unsubscribed only after the new one was live.
    await waitFor(() => st.channels.get(first)?.topics.size === 0);
    await delay(300);
    await settle([events]);
    assert.deepEqual(gaps, []);
    assert.equal(m.stats.handovers.socket_closing, 1);
  });

  it('rolls channels over before they expire (lifetime in seconds), no gap, nothing lost', async () => {
    await startSim({ channelLifetimeSeconds: 1.5 });
    const { m, events, gaps } = manager();
    await m.setTopics(TOPICS);
    runTraffic();
    await delay(3500);
    await settle([events]);
    assert.ok((m.stats.handovers.expiry ?? 0) >= 2, JSON.stringify(m.stats.handovers));
    assert.equal(st.counts.expired >= 0, true);
    assert.deepEqual(gaps, []);
  });

  it('token expiry mid-socket: the socket keeps going, rollovers use fresh tokens, nothing lost', async () => {
    await startSim({ channelLifetimeSeconds: 1.5, tokenLifetimeSeconds: 1 });
    const tokens = new SimTokens(sim);
    const { m, events, gaps } = manager({}, new SimApi(sim, tokens));
    await m.setTopics(TOPICS);
    runTraffic();
    await delay(3000);
    await settle([events]);
    assert.ok(tokens.fetches >= 2, `token fetched ${tokens.fetches} times`);
    assert.ok((m.stats.handovers.expiry ?? 0) >= 1);
    assert.deepEqual(gaps, []);
  });

  it('active-active: unplanned drops of one manager every few hundred ms; the union covers the ledger', async () => {
    await startSim();
    const a = manager();
    const b = manager();
    await a.m.setTopics(TOPICS);
    await b.m.setTopics(TOPICS);
    runTraffic(200);
    for (let i = 0; i < 6; i++) {
      await delay(350);
      st.dropSocket(a.m.channelIds()[0]);
    }
    await delay(300);
    await settle([a.events, b.events]);
    assert.ok(a.gaps.length >= 3, `gaps ${a.gaps.length}`);
    assert.deepEqual(b.gaps, []);
    // The dropped manager alone lost events (no durability) — the pair did not.
    assert.ok(sim.ledger.byPath('notification').every((e) => e.delivered));
  });

  it('2,500 topics → 3 channels; 20,001 topics → a clear error and no channel created', async () => {
    await startSim();
    const { m } = manager();
    const topics = buildTopics({ queueIds: Array.from({ length: 2500 }, (_, i) => `queue-${i}`) });
    await m.setTopics(topics);
    assert.equal(m.channelIds().length, 3);
    assert.deepEqual(st.list().map((c) => c.topics.size).sort(), [1000, 1000, 500].sort());
    const { m: m2 } = manager();
    const created = st.counts.created;
    await assert.rejects(m2.setTopics(buildTopics({ queueIds: Array.from({ length: 20_001 }, (_, i) => `queue-${i}`) })),
      (e: Error) => e instanceof ChannelLimitError && /20001 topics need 21 notification channels/.test(e.message));
    assert.equal(st.counts.created, created);
  });

  it('an evicted channel is replaced and its gap reported', async () => {
    await startSim();
    const { m, events, gaps } = manager();
    await m.setTopics(TOPICS);
    const first = m.channelIds()[0];
    st.evict(first);
    await waitFor(() => m.channelIds()[0] !== first && m.status().state === 'connected', 3000, 'replacement');
    assert.equal(gaps.length, 1);
    assert.deepEqual(gaps[0].topics.sort(), [...TOPICS].sort());
    runTraffic();
    await delay(300);
    await settle([events]);
  });

  it('guide mode: a 21st channel (429) sets an error status with a clear message, then recovers', async () => {
    await startSim({ mode: 'guide' });
    const api = new SimApi(sim);
    const squatters: string[] = [];
    for (let i = 0; i < 20; i++) squatters.push((await api.request({ method: 'POST', path: '/api/v2/notifications/channels', body: {} })).body.id);
    const { m, warnings } = manager();
    await m.setTopics(TOPICS);
    assert.equal(m.status().state, 'error');
    assert.match(m.status().message ?? '', /429.*maximum number of channels/);
    assert.ok(warnings.some((w) => /429/.test(w)));
    st.expire(squatters[0]);
    await waitFor(() => m.status().state === 'connected', 3000, 'recovery after a channel frees up');
  });

  it('a silent (half-open) socket is detected by the watchdog and replaced', async () => {
    await startSim();
    const { m, gaps } = manager({ idleTimeoutMs: 500, pingIntervalMs: 150 });
    await m.setTopics(TOPICS);
    const first = m.channelIds()[0];
    st.stall(first);
    const t0 = Date.now();
    await waitFor(() => gaps.length === 1 && m.status().state === 'connected', 3000, 'watchdog reconnect');
    assert.ok(Date.now() - t0 < 1500);
    assert.ok(st.counts.pings > 0);
  });

  it('no_longer_subscribed and token_revoked: replaced with a gap; the revoked token is invalidated', async () => {
    await startSim();
    const tokens = new SimTokens(sim);
    const { m, gaps } = manager({}, new SimApi(sim, tokens));
    await m.setTopics(TOPICS);
    st.sendNoLongerSubscribed(m.channelIds()[0]);
    await waitFor(() => gaps.length === 1 && m.status().state === 'connected', 3000, 'no_longer_subscribed replacement');
    const before = tokens.fetches;
    st.revokeToken(m.channelIds()[0]);
    await waitFor(() => gaps.length === 2 && m.status().state === 'connected', 3000, 'token_revoked replacement');
    assert.equal(tokens.fetches, before + 1);
    assert.equal(m.stats.handovers.no_longer_subscribed, 1);
    assert.equal(m.stats.handovers.token_revoked, 1);
  });

  it('with no spare channel (maxChannels 1): socket_closing swaps the socket, expiry resubscribes in place', async () => {
    await startSim({ channelLifetimeSeconds: 1.2 });
    const { m, events, gaps } = manager({ maxChannels: 1 });
    await m.setTopics(TOPICS);
    const only = m.channelIds()[0];
    runTraffic();
    await delay(200);
    st.sendSocketClosing(only, 3000);
    await waitFor(() => (m.stats.handovers.socket_closing ?? 0) === 1);
    await delay(1500);
    await settle([events]);
    assert.deepEqual(m.channelIds(), [only]);
    assert.equal(st.counts.created, 1);
    assert.ok((m.stats.handovers.expiry ?? 0) >= 1);
    assert.deepEqual(gaps, []);
  });

  it('changes topics at run time on the same channel (PUT replace)', async () => {
    await startSim();
    const { m } = manager();
    await m.setTopics(TOPICS.slice(0, 1));
    const ch = m.channelIds()[0];
    await m.setTopics(TOPICS);
    assert.deepEqual(m.channelIds(), [ch]);
    assert.deepEqual([...st.channels.get(ch)!.topics].sort(), [...TOPICS].sort());
    await m.setTopics([]);
    assert.deepEqual(m.channelIds(), []);
    assert.equal(st.channels.get(ch)!.topics.size, 0);
  });

  it('garbage frames (invalid JSON, binary, unknown topic, no body, giant) are counted, never emitted, never crash', async () => {
    await startSim();
    const { m, events, gaps, warnings } = manager({ maxFrameBytes: 64 * 1024 });
    await m.setTopics(TOPICS);
    const id = m.channelIds()[0];
    st.sendRaw(id, '{"topicName": "v2.routing.queues.q-sales.conversations", "eventBody": {');
    st.sendRaw(id, Buffer.from([1, 2, 3]));
    st.sendRaw(id, JSON.stringify({ topicName: 'v2.routing.queues.q-other.conversations', eventBody: { id: 'x', participants: [] } }));
    st.sendRaw(id, JSON.stringify({ topicName: TOPICS[0], eventBody: null }));
    st.sendRaw(id, JSON.stringify([1, 2]));
    await waitFor(() => m.stats.garbage === 4 && m.stats.unknownTopic === 1, 2000, 'garbage counted');
    st.sendRaw(id, JSON.stringify({ topicName: TOPICS[0], eventBody: { id: 'big', pad: 'x'.repeat(100 * 1024) } }));
    await waitFor(() => gaps.length === 1 && m.status().state === 'connected', 3000, 'reconnect after a giant frame');
    assert.equal(events.length, 0);
    assert.ok(warnings.length >= 3);
  });
});
