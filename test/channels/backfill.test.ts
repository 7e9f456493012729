import { strict as assert } from 'node:assert';
import { GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { TrafficGenerator } from '../../simulator/traffic';
import { ChannelManager, type ChannelGap } from '../../lib/genesys/channels/channel-manager';
import { Backfill, type BackfillEvent } from '../../lib/genesys/channels/backfill';
import { buildTopics } from '../../lib/genesys/channels/topics';
import { SimApi, waitFor, delay, coarseState, worldCoarseState } from './support';

const QUEUES = [{ id: 'q-sales', name: 'Sales' }, { id: 'q-support', name: 'Support' }];
const TOPICS = buildTopics({ queueIds: QUEUES.map((q) => q.id) });

describe('Backfill after a notification gap (simulator)', function () {
  this.timeout(20_000);
  let sim: GenesysSimulator;
  let st: ChannelsState;
  let manager: ChannelManager | null = null;
  let backfill: Backfill | null = null;
  let traffic: TrafficGenerator | null = null;
  beforeEach(async () => {
    sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0 });
    await sim.start();
    st = sim.state.channels;
  });
  afterEach(async () => {
    await traffic?.stop();
    backfill?.stop();
    await manager?.stop();
    await sim.stop();
    traffic = null; manager = null; backfill = null;
  });

  it('a socket kept down loses events; the backfill brings every changed conversation to its latest state', async () => {
    const api = new SimApi(sim);
    manager = new ChannelManager({ api, idleTimeoutMs: 1000, pingIntervalMs: 300, reconnect: { initialMs: 100, maxMs: 300 } });
    backfill = new Backfill({ api, subscribedTopics: () => manager!.topics, slackMs: 1000 });
    const emitted: { id: string; body: any; backfilled: boolean }[] = [];
    const gaps: ChannelGap[] = [];
    manager.on('event', (e) => { backfill!.observe(e.topicName, e.eventBody); emitted.push({ id: e.eventBody.id, body: e.eventBody, backfilled: false }); });
    manager.on('gap', (g) => { gaps.push(g); void backfill!.fill(g); });
    backfill.on('event', (e: BackfillEvent) => emitted.push({ id: e.eventBody.id, body: e.eventBody, backfilled: true }));
    await manager.setTopics(TOPICS);
    traffic = new TrafficGenerator(sim.world, { seed: 5, ratePerSecond: 150, timeFactor: 0.003, queues: QUEUES, agents: 6, maxConcurrent: 25 });
    traffic.start();
    await delay(500);
    st.blockConnections(1500);
    await delay(1000);
    await traffic.stop();
    await waitFor(() => gaps.length === 1 && manager!.status().state === 'connected', 5000, 'reconnect after the outage');
    await delay(50);
    await backfill.idle();

    const lost = sim.ledger.byPath('notification').filter((e) => !e.delivered);
    assert.ok(lost.length > 20, `only ${lost.length} events lost during the outage`);
    const changed = [...new Set(lost.map((e) => e.conversationId))];
    const behind: string[] = [];
    for (const id of changed) {
      const last = emitted.filter((e) => e.id === id).pop();
      if (!last || coarseState(last.body) !== worldCoarseState(sim, id)) behind.push(`${id}: ${last ? coarseState(last.body) : 'none'} vs ${worldCoarseState(sim, id)}`);
    }
    assert.deepEqual(behind, []);
    assert.ok(emitted.some((e) => e.backfilled));
    assert.ok(backfill.stats.queries >= 1);
    // Some conversations started during the outage: only the details query could have found them.
    const bornInGap = changed.filter((id) => lost.some((e) => e.conversationId === id && e.seq === 1));
    assert.ok(bornInGap.length > 0);
    assert.ok(bornInGap.every((id) => emitted.some((e) => e.id === id && e.backfilled)));
  });

  it('merges gaps that arrive while one is being filled, and treats 404 as unknown', async () => {
    const api = new SimApi(sim);
    const bf = backfill = new Backfill({ api, subscribedTopics: () => TOPICS, slackMs: 0 });
    bf.observe(TOPICS[0], { id: 'ghost', participants: [{ id: 'p', purpose: 'customer', calls: [{ id: 's', state: 'connected' }] }] });
    assert.equal(bf.trackedActive, 1);
    const now = Date.now();
    const gap = (a: number, b: number, topics = TOPICS): ChannelGap => ({ from: new Date(now + a).toISOString(), to: new Date(now + b).toISOString(), topics, channelId: 'c', reason: 'dropped' });
    const warnings: string[] = [];
    bf.on('warn', (w) => warnings.push(w));
    const done: any[] = [];
    bf.on('done', (d) => done.push(d));
    void bf.fill(gap(0, 10));
    void bf.fill(gap(5, 20, [TOPICS[0]]));
    void bf.fill(gap(-5, 15, ['v2.detail.events.conversation.x.acd.start', TOPICS[1]]));
    await bf.idle();
    assert.equal(done.length, 2);
    assert.equal(done[1].gap.from, new Date(now + 5 - 10).toISOString());
    assert.equal(bf.stats.notFound, 1);
    assert.equal(bf.trackedActive, 0);
    assert.equal(bf.stats.emitted, 0);
  });
});
