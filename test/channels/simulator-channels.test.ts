import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import { SimApi, waitFor, delay } from './support';

const QUEUE = 'q-1';
const topic = (q = QUEUE) => `v2.routing.queues.${q}.conversations`;

function startConv(sim: GenesysSimulator, id: string, queueId = QUEUE) {
  return sim.world.start({ id, mediaType: 'voice', direction: 'inbound', queueId, queueName: 'Sales', customerAddress: 'tel:+15550100', startTime: new Date().toISOString() });
}

function connect(uri: string): Promise<{ ws: WebSocket; frames: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(uri);
    const frames: any[] = [];
    ws.on('message', (d) => { try { frames.push(JSON.parse(d.toString())); } catch { frames.push(d.toString()); } });
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('error', reject);
  });
}

describe('simulator: notification channels', () => {
  let sim: GenesysSimulator;
  let api: SimApi;
  let st: ChannelsState;
  const sockets: WebSocket[] = [];
  beforeEach(async () => {
    sim = new GenesysSimulator({ heartbeatMs: 100, channelLifetimeSeconds: 60, rateLimitPerMinute: 0 });
    await sim.start();
    api = new SimApi(sim);
    st = sim.state.channels;
  });
  afterEach(async () => { for (const s of sockets.splice(0)) s.terminate(); await sim.stop(); });

  const create = async () => (await api.request({ method: 'POST', path: '/api/v2/notifications/channels', body: {} })).body as { id: string; connectUri: string; expires: string };

  it('creates a channel, subscribes, heartbeats, answers ping, delivers the queue conversation envelope', async () => {
    const ch = await create();
    assert.match(ch.id, /^streaming-/);
    assert.equal(ch.connectUri, `${sim.wsBaseUrl}/channels/${ch.id}`);
    assert.ok(Date.parse(ch.expires) > Date.now() + 50_000);
    const sub = await api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: [{ id: topic() }, { id: 'not a topic' }] });
    assert.deepEqual(sub.body.entities, [{ id: topic(), state: 'Permitted' }, { id: 'not a topic', state: 'Rejected', rejectionReason: 'Invalid topic' }]);
    assert.equal((await api.request({ method: 'HEAD', path: `/api/v2/notifications/channels/${ch.id}`, acceptStatus: [404] })).status, 200);
    assert.equal((await api.request({ method: 'HEAD', path: '/api/v2/notifications/channels/streaming-nope', acceptStatus: [404] })).status, 404);
    const { ws, frames } = await connect(ch.connectUri);
    sockets.push(ws);
    ws.send('{"message":"ping"}');
    startConv(sim, 'c-1');
    await waitFor(() => frames.some((f) => f.eventBody?.message === 'WebSocket Heartbeat') && frames.some((f) => f.eventBody?.message === 'pong') && frames.some((f) => f.topicName === topic()));
    const ev = frames.find((f) => f.topicName === topic());
    assert.equal(ev.version, '2');
    assert.equal(ev.eventBody.id, 'c-1');
    assert.ok(ev.metadata.CorrelationId);
    assert.deepEqual(ev.eventBody.participants.map((p: any) => p.purpose), ['customer', 'acd']);
    assert.equal(ev.eventBody.participants[1].calls[0].state, 'CONNECTED');
    const entry = sim.ledger.byPath('notification')[0];
    assert.equal(entry.eventId, 'c-1:1');
    assert.equal(entry.delivered, true);
  });

  it('has no durability: a change while the socket is down is lost and recorded as undelivered', async () => {
    const ch = await create();
    await api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: [{ id: topic() }] });
    startConv(sim, 'c-2');
    const { ws, frames } = await connect(ch.connectUri);
    sockets.push(ws);
    sim.world.update('c-2', { state: 'alerting', agentId: 'u-1', agentName: 'Ann' });
    await waitFor(() => frames.some((f) => f.topicName === topic()));
    assert.deepEqual(sim.ledger.byPath('notification').map((e) => [e.eventId, e.delivered]), [['c-2:1', false], ['c-2:2', true]]);
  });

  it('a second connection kicks the first; dropSocket/sendSocketClosing/expire behave', async () => {
    const ch = await create();
    const a = await connect(ch.connectUri);
    const closed = new Promise<number>((r) => a.ws.once('close', (code) => r(code)));
    const b = await connect(ch.connectUri);
    sockets.push(a.ws, b.ws);
    assert.equal(await closed, 4000);
    assert.equal(st.counts.kicked, 1);
    assert.ok(st.sendSocketClosing(ch.id, 50));
    const bClosed = new Promise<number>((r) => b.ws.once('close', (code) => r(code)));
    await waitFor(() => b.frames.some((f) => f.topicName === 'v2.system.socket_closing'));
    assert.equal(await bClosed, 1001);
    assert.ok(st.expire(ch.id));
    assert.equal((await api.request({ method: 'HEAD', path: `/api/v2/notifications/channels/${ch.id}`, acceptStatus: [404] })).status, 404);
    await assert.rejects(connect(ch.connectUri));
  });

  it('platform: >1000 topics → 400; 21st channel evicts the least recently used one', async () => {
    const ch = await create();
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: topic(`q${i}`) }));
    await assert.rejects(api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: many }), (e: any) => e.status === 400);
    const others = [];
    for (let i = 0; i < 19; i++) others.push(await create());
    // Touch the first one so that the second is now the least recently used.
    await delay(5);
    await api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: [{ id: topic() }] });
    const victim = await connect(others[0].connectUri);
    sockets.push(victim.ws);
    const gone = new Promise<void>((r) => victim.ws.once('close', () => r()));
    // connecting counts as use, so reuse order: others[1] is now the oldest
    await create();
    assert.equal(st.counts.evicted, 1);
    assert.equal(st.list().length, 20);
    assert.ok(!st.channels.has(others[1].id));
    assert.ok(st.channels.has(ch.id));
    st.evict(others[0].id);
    await gone;
  });

  it('guide mode: >1000 topics → 429 and a 21st channel → 429', async () => {
    sim.mode = 'guide';
    const ch = await create();
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: topic(`q${i}`) }));
    await assert.rejects(api.request({ method: 'POST', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: many }), (e: any) => e.status === 429);
    for (let i = 0; i < 19; i++) await create();
    await assert.rejects(create(), (e: any) => e.status === 429);
    assert.equal(st.list().length, 20);
  });

  it('honours the traffic generator\'s delivery flags: duplicate, malformed, delayed', async () => {
    const ch = await create();
    await api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${ch.id}/subscriptions`, body: [{ id: topic() }] });
    const { ws, frames } = await connect(ch.connectUri);
    sockets.push(ws);
    sim.world.start({ id: 'c-f', mediaType: 'chat', direction: 'inbound', queueId: QUEUE, queueName: 'Sales', customerAddress: 'a@b', startTime: new Date().toISOString() }, { duplicate: true });
    sim.world.update('c-f', { state: 'alerting', agentId: 'u-1' }, { malformed: true });
    sim.world.update('c-f', { state: 'connected', connectedTime: new Date().toISOString() }, { delayMs: 100 });
    sim.world.update('c-f', { state: 'held' });
    await waitFor(() => frames.filter((f) => typeof f === 'object' && f.topicName === topic()).length === 4);
    const events = frames.filter((f) => f.topicName === topic() || typeof f === 'string');
    assert.equal(events.length, 5);
    assert.deepEqual(events[0], events[1]);
    assert.equal(typeof events[2], 'string');
    assert.equal(events[3].eventBody.participants[2].chats[0].held, true);
    assert.equal(events[4].eventBody.participants[2].chats[0].held, false);
    assert.deepEqual(sim.ledger.byPath('notification').map((e) => [e.eventId, Boolean(e.malformed)]), [['c-f:1', false], ['c-f:2', true], ['c-f:4', false], ['c-f:3', false]]);
  });

  it('expires a channel after its lifetime unless resubscribed', async () => {
    sim.opts.channelLifetimeSeconds = 0.4;
    const a = await create();
    const b = await create();
    await delay(250);
    await api.request({ method: 'PUT', path: `/api/v2/notifications/channels/${b.id}/subscriptions`, body: [{ id: topic() }] });
    await delay(300);
    assert.ok(!st.channels.has(a.id));
    assert.ok(st.channels.has(b.id));
    const listed = (await api.request({ method: 'GET', path: '/api/v2/notifications/channels' })).body.entities.map((e: any) => e.id);
    assert.deepEqual(listed, [b.id]);
  });
});
