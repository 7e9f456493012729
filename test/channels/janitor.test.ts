import { strict as assert } from 'node:assert';
import { GenesysSimulator } from '../../simulator/server';
import { renderQueueConversationEvent } from '../../simulator/routes/channels';
import { ZombieJanitor, RedisJanitorStore, MemoryJanitorStore, type JanitorFinalize, type JanitorStore } from '../../lib/genesys/janitor';
import { isConversationEnded } from '../../lib/genesys/channels/conversation-state';
import { redisUrl, uniqueName } from '../fixtures/env';
import { SimApi, delay } from './support';

const TOPIC = 'v2.routing.queues.q-1.conversations';

describe('ZombieJanitor (simulator)', function () {
  this.timeout(15_000);
  let sim: GenesysSimulator;
  const janitors: ZombieJanitor[] = [];
  beforeEach(async () => { sim = new GenesysSimulator({ rateLimitPerMinute: 0 }); await sim.start(); });
  afterEach(async () => { for (const j of janitors.splice(0)) await j.stop(); await sim.stop(); });

  function startConv(id: string) {
    const c = sim.world.start({ id, mediaType: 'voice', direction: 'inbound', queueId: 'q-1', queueName: 'Sales', customerAddress: 'tel:+1555', startTime: new Date().toISOString() });
    return sim.world.update(c.id, { state: 'connected', agentId: 'u-1', agentName: 'Ann', connectedTime: new Date().toISOString() });
  }
  function janitor(store: JanitorStore = new MemoryJanitorStore(), extra = {}) {
    const j = new ZombieJanitor({ api: new SimApi(sim), store, thresholdMs: 300, sweepIntervalMs: 100, recheckMs: 200, maxLookupsPerSecond: 50, ...extra });
    const finals: JanitorFinalize[] = [];
    j.on('finalize', (f) => finals.push(f));
    janitors.push(j);
    return { j, finals };
  }

  it('a conversation left active past the threshold but ended gets exactly one synthetic finalize; an active one gets none', async () => {
    const { j, finals } = janitor();
    const zombie = startConv('c-zombie');
    const alive = startConv('c-alive');
    j.observe(TOPIC, renderQueueConversationEvent(zombie));
    j.observe(TOPIC, renderQueueConversationEvent(alive));
    // The disconnect is never published: the platform knows it ended, the stream does not.
    sim.world.silentUpdate('c-zombie', { state: 'ended', endTime: new Date().toISOString() });
    j.start();
    await delay(1200);
    assert.equal(finals.length, 1);
    const f = finals[0];
    assert.equal(f.conversationId, 'c-zombie');
    assert.equal(f.reason, 'ended');
    assert.equal(f.synthetic, true);
    assert.equal(f.topicName, TOPIC);
    assert.ok(isConversationEnded(f.eventBody));
    assert.ok(f.eventBody.participants.length >= 2);
    assert.ok(j.stats.stillActive >= 2, `alive looked up ${j.stats.stillActive} times`);
    // Late active events for a finalized conversation do not start tracking it again.
    j.observe(TOPIC, renderQueueConversationEvent(zombie));
    assert.equal(await j.store.size(), 1);
  });

  it('ended events stop tracking; 404 is finalized as not-found; lookups are rate limited', async () => {
    const { j, finals } = janitor(new MemoryJanitorStore(), { maxLookupsPerSecond: 5 });
    const c = startConv('c-ends');
    j.observe(TOPIC, renderQueueConversationEvent(c));
    j.observe(TOPIC, renderQueueConversationEvent(sim.world.update('c-ends', { state: 'ended', endTime: new Date().toISOString(), wrapupStartTime: new Date().toISOString() })));
    for (let i = 0; i < 4; i++) j.observe(TOPIC, { id: `c-unknown-${i}`, participants: [{ id: 'p', purpose: 'customer', calls: [{ id: 's', state: 'connected' }] }] });
    await delay(350);
    const t0 = Date.now();
    assert.equal(await j.sweep(), 4);
    assert.ok(Date.now() - t0 >= 550, `4 lookups at 5/s took ${Date.now() - t0} ms`);
    assert.deepEqual(finals.map((f) => f.reason), ['not-found', 'not-found', 'not-found', 'not-found']);
    assert.equal(finals[0].eventBody.participants.length, 0);
    assert.ok(finals[0].eventBody.endTime);
    assert.equal(j.stats.lookups, 4);
  });

  it('Redis store: survives a restart, and two janitors sharing it emit one finalize', async () => {
    const prefix = `${uniqueName('janitor')}:`;
    const first = janitor(new RedisJanitorStore(redisUrl(), prefix));
    const c = startConv('c-redis');
    first.j.observe(TOPIC, renderQueueConversationEvent(c));
    assert.equal(await first.j.store.size(), 1);
    await first.j.stop();
    sim.world.silentUpdate('c-redis', { state: 'ended', endTime: new Date().toISOString() });
    const a = janitor(new RedisJanitorStore(redisUrl(), prefix));
    const b = janitor(new RedisJanitorStore(redisUrl(), prefix));
    await delay(350);
    await Promise.all([a.j.sweep(), b.j.sweep()]);
    assert.equal(a.finals.length + b.finals.length, 1);
    assert.equal(await a.j.store.size(), 0);
    const redis = (a.j.store as RedisJanitorStore).redis;
    assert.deepEqual(await redis.keys(`${prefix}*`), []);
  });
});
