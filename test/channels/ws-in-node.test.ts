import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { ChannelsState } from '../../simulator/routes/channels';
import type { AnalyticsSocketState } from '../../simulator/routes/analytics-ws';
import { TrafficGenerator } from '../../simulator/traffic';
import configInit = require('../../nodes/genesys-config/genesys-config');
import wsInInit = require('../../nodes/genesys-ws-in/genesys-ws-in');
import { delay, waitFor } from './support';

helper.init(require.resolve('node-red'));

const QUEUES = [{ id: 'q-sales', name: 'Sales' }, { id: 'q-support', name: 'Support' }];
const topic = (q: string) => `v2.routing.queues.${q}.conversations`;

describe('genesys-ws-in node', function () {
  this.timeout(20_000);
  let sim: GenesysSimulator;
  let st: ChannelsState;
  let traffic: TrafficGenerator | null = null;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator({ heartbeatMs: 100, rateLimitPerMinute: 0 });
    await sim.start();
    st = sim.state.channels;
  });
  afterEach(async () => {
    await traffic?.stop();
    traffic = null;
    await helper.unload();
    await sim.stop();
  });

  const load = (wsIn: Record<string, unknown>, withConfig = true) => helper.load([configInit, wsInInit], [
    { id: 'tab', type: 'tab' },
    ...(withConfig ? [{ id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 }] : []),
    { id: 'ws', type: 'genesys-ws-in', z: 'tab', x: 1, y: 1, genesys: 'c1', mode: 'channels', queueIds: QUEUES.map((q) => q.id).join(', '), queueIdsType: 'str',
      userIds: '', userIdsType: 'str', topics: '', maxChannels: 20, idleTimeout: 1, reconnectMax: 0.4, backfill: true, janitor: false, wires: [['out']], ...wsIn },
    { id: 'out', type: 'helper', z: 'tab', x: 1, y: 1 },
    { id: 'catcher', type: 'catch', z: 'tab', x: 1, y: 1, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab', x: 1, y: 1 },
  ], withConfig ? { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } } : {});
  const collect = (id: string): any[] => {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => got.push(m));
    return got;
  };
  const statuses = (): any[] => (helper.getNode('ws') as any).status.args.map((a: any[]) => a[0]);
  const startConv = (id: string, queueId = 'q-sales') => sim.world.start({ id, mediaType: 'voice', direction: 'inbound', queueId, queueName: 'Sales', customerAddress: 'tel:+1555', startTime: new Date().toISOString() });
  const channelTopics = (): string[] => st.list().flatMap((c) => [...c.topics]).sort();

  it('emits one message per event with topic, key and genesys meta; shows channels in its status', async () => {
    await load({});
    const out = collect('out');
    await waitFor(() => st.list().some((c) => c.socket), 5000, 'a connected channel');
    startConv('c-1');
    sim.world.update('c-1', { state: 'alerting', agentId: 'u-1', agentName: 'Ann' });
    startConv('c-2', 'q-support');
    await waitFor(() => out.length === 3, 3000, '3 messages');
    await delay(300); // heartbeats keep coming: none of them is a message
    assert.equal(out.length, 3);
    const m = out[0];
    assert.equal(m.topic, topic('q-sales'));
    assert.equal(m.key, 'c-1');
    assert.equal(m.payload.id, 'c-1');
    assert.equal(m.genesys.source, 'notification');
    assert.equal(m.genesys.topicName, topic('q-sales'));
    assert.match(m.genesys.channelId, /^streaming-/);
    assert.ok(Date.parse(m.genesys.receivedAt) > 0);
    assert.equal(out[2].key, 'c-2');
    await waitFor(() => statuses().some((s) => s.fill === 'green' && s.text === 'genesys-ws-in.status.connected'), 3000, 'green status');
  });

  it('changes subscriptions at run time; bad input reaches Catch and changes nothing', async () => {
    await load({ queueIds: 'q-sales' });
    const caught = collect('caught');
    await waitFor(() => channelTopics().length === 1, 5000, 'subscribed');
    const ws = helper.getNode('ws');
    ws.receive({ payload: { queueIds: ['q-support'], action: 'add' } } as any);
    await waitFor(() => channelTopics().length === 2, 3000, 'added queue');
    assert.deepEqual(channelTopics(), [topic('q-sales'), topic('q-support')]);
    ws.receive({ payload: 'subscribe me' } as any);
    ws.receive({ payload: { queueIds: ['bad id!'] } } as any);
    ws.receive({ topics: 42 } as any);
    ws.receive({ topics: ['v2.routing.queues.*.conversations'] } as any);
    ws.receive({ payload: { queueIds: ['x'], action: 'merge' } } as any);
    await waitFor(() => caught.length === 5, 3000, '5 errors caught');
    assert.match(caught[0].error.message, /expected msg.topics, or msg.payload/);
    assert.match(caught[1].error.message, /invalid id in queueIds/);
    assert.match(caught[2].error.message, /msg.topics must be an array/);
    assert.match(caught[3].error.message, /invalid notification topic/);
    assert.match(caught[4].error.message, /action must be replace, add or remove/);
    assert.deepEqual(channelTopics(), [topic('q-sales'), topic('q-support')]);
    ws.receive({ topics: [topic('q-other'), 'v2.users.u-9.conversations'] } as any);
    await waitFor(() => channelTopics().includes('v2.users.u-9.conversations'), 3000, 'replaced topics');
    assert.deepEqual(channelTopics(), [topic('q-other'), 'v2.users.u-9.conversations'].sort());
    const tooMany = Array.from({ length: 20_001 }, (_, i) => `q${i}`);
    ws.receive({ payload: { queueIds: tooMany } } as any);
    await waitFor(() => caught.length === 6, 3000, 'channel limit error');
    assert.match(caught[5].error.message, /need 21 notification channels/);
  });

  it('backfills a gap: conversations changed while the socket was down come out marked backfilled', async () => {
    await load({});
    const out = collect('out');
    await waitFor(() => st.list().some((c) => c.socket), 5000, 'a connected channel');
    startConv('c-before');
    await waitFor(() => out.length === 1, 3000, 'first event');
    st.blockConnections(800);
    await delay(50);
    sim.world.update('c-before', { state: 'alerting', agentId: 'u-1', agentName: 'Ann' });
    startConv('c-during', 'q-support');
    await waitFor(() => out.filter((m) => m.genesys.backfilled).length === 2, 6000, 'two backfilled messages');
    const bf = out.filter((m) => m.genesys.backfilled);
    assert.deepEqual(bf.map((m) => m.key).sort(), ['c-before', 'c-during']);
    assert.ok(bf.every((m) => m.genesys.source === 'backfill' && m.payload.participants.length >= 2));
    assert.equal(bf.find((m) => m.key === 'c-before').topic, topic('q-sales'));
    assert.equal(bf.find((m) => m.key === 'c-during').topic, topic('q-support'));
  });

  it('janitor option: one synthetic finalize for a zombie, none for a live conversation', async () => {
    await load({ janitor: true, janitorThreshold: 0.3, janitorInterval: 0.1, janitorRate: 50 });
    const out = collect('out');
    await waitFor(() => st.list().some((c) => c.socket), 5000, 'a connected channel');
    startConv('c-zombie');
    startConv('c-live');
    await waitFor(() => out.length === 2, 3000, 'two live events');
    sim.world.silentUpdate('c-zombie', { state: 'ended', endTime: new Date().toISOString() });
    await delay(1000);
    const synthetic = out.filter((m) => m.genesys.synthetic);
    assert.equal(synthetic.length, 1);
    assert.equal(synthetic[0].key, 'c-zombie');
    assert.equal(synthetic[0].genesys.source, 'janitor');
    assert.equal(synthetic[0].topic, topic('q-sales'));
    assert.ok(synthetic[0].payload.endTime);
  });

  it('realtime analytics mode: subscribes with the filters, emits events, resubscribes after a drop', async () => {
    const analytics = sim.state.analytics as AnalyticsSocketState;
    await load({ mode: 'analytics', queueIds: 'q-sales', mediaTypes: 'voice, chat, fax' });
    const out = collect('out');
    await waitFor(() => analytics.subscriptions.length === 1, 5000, 'subscribe message');
    assert.deepEqual(analytics.subscriptions[0], { type: 'conversation', filters: { queueIds: ['q-sales'], mediaTypes: ['voice', 'chat'] } });
    startConv('c-a1');
    startConv('c-other', 'q-support');
    await waitFor(() => out.length >= 1, 3000, 'an analytics event');
    await delay(100);
    assert.ok(out.every((m) => m.key === 'c-a1' && m.genesys.source === 'analytics-ws' && m.payload.type === 'event'));
    assert.equal(out[0].topic, 'analytics.realtime.conversation');
    analytics.dropAll();
    await waitFor(() => analytics.subscriptions.length === 2, 5000, 'resubscribe after the drop');
    helper.getNode('ws').receive({ payload: { queueIds: ['q-support'] } } as any);
    await waitFor(() => analytics.subscriptions.length === 3, 3000, 'subscription update');
    assert.deepEqual(analytics.subscriptions[2].filters?.queueIds, ['q-support']);
  });

  it('realtime analytics mode: a gap while the socket is down is backfilled for the filtered queues', async () => {
    const analytics = sim.state.analytics as AnalyticsSocketState;
    await load({ mode: 'analytics', queueIds: 'q-sales' });
    const out = collect('out');
    await waitFor(() => analytics.subscriptions.length === 1, 5000, 'subscribe message');
    analytics.rejectNext(3);
    analytics.dropAll();
    startConv('c-missed');
    startConv('c-elsewhere', 'q-support');
    await waitFor(() => out.some((m) => m.genesys.backfilled), 6000, 'backfilled message');
    await delay(100);
    const bf = out.filter((m) => m.genesys.backfilled);
    assert.deepEqual(bf.map((m) => m.key), ['c-missed']);
    assert.equal(bf[0].topic, topic('q-sales'));
    assert.equal(bf[0].genesys.source, 'backfill');
  });

  it('without a genesys-config: red status, and input fails clearly', async () => {
    await load({ genesys: 'missing' }, false);
    const caught = collect('caught');
    assert.deepEqual(statuses()[0], { fill: 'red', shape: 'ring', text: 'genesys-ws-in.status.noConfig' });
    helper.getNode('ws').receive({ payload: { queueIds: ['q'] } } as any);
    await waitFor(() => caught.length === 1, 2000, 'error');
  });
});
