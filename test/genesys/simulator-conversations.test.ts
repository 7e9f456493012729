import { strict as assert } from 'node:assert';
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';
import type { AnalyticsConversation } from '../../lib/genesys/shapes';

describe('simulator: GET conversation and the details query', () => {
  let sim: GenesysSimulator;
  let auth: Record<string, string>;
  const T0 = Date.parse('2024-05-01T10:00:00Z');
  const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    const res = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}`).toString('base64') }, body: 'grant_type=client_credentials' });
    auth = { authorization: `Bearer ${(await res.json() as any).access_token}`, 'content-type': 'application/json' };
  });
  afterEach(() => sim.stop());

  const getConv = (id: string) => fetch(`${sim.baseUrl}/api/v2/conversations/${id}`, { headers: auth });
  const query = (body: unknown) => fetch(`${sim.baseUrl}/api/v2/analytics/conversations/details/query`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const start = (id: string, atS: number, media: 'voice' | 'chat' | 'email' | 'sms' = 'voice', queueId = 'q1') =>
    sim.world.start({ id, mediaType: media, direction: 'inbound', queueId, queueName: `Queue ${queueId}`, customerAddress: 'tel:+15550100', startTime: iso(atS) });

  it('GET /api/v2/conversations/{id}: live and ended renderings; 404 for unknown; 401 without a token', async () => {
    start('c1', 0, 'voice');
    sim.world.update('c1', { state: 'connected', agentId: 'u1', agentName: 'Ann', connectedTime: iso(20) });
    let body = await (await getConv('c1')).json() as any;
    assert.equal(body.id, 'c1');
    assert.equal(body.state, 'connected');
    assert.equal(body.endTime, undefined);
    const purposes = body.participants.map((p: any) => p.purpose);
    assert.deepEqual(purposes, ['customer', 'acd', 'agent']);
    const agent = body.participants[2];
    assert.equal(agent.userId, 'u1');
    assert.equal(agent.calls[0].state, 'connected');
    assert.equal(body.participants[1].calls[0].state, 'disconnected', 'the ACD leg ended when the agent answered');
    sim.world.update('c1', { state: 'wrapup', wrapupStartTime: iso(200) });
    sim.world.update('c1', { state: 'ended', endTime: iso(230) });
    body = await (await getConv('c1')).json() as any;
    assert.equal(body.state, 'disconnected');
    assert.equal(body.endTime, iso(230));
    assert.equal(body.participants[2].wrapup.durationSeconds, 30);
    assert.ok(body.participants.every((p: any) => p.calls[0].state === 'disconnected'));
    const missing = await getConv('nope');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json() as any).code, 'not.found');
    assert.equal((await fetch(`${sim.baseUrl}/api/v2/conversations/c1`)).status, 401);
  });

  it('renders each media type under its own participant key (sms as messages)', async () => {
    start('s1', 0, 'sms');
    start('e1', 0, 'email');
    const sms = await (await getConv('s1')).json() as any;
    assert.equal(sms.participants[0].messages[0].type, 'sms');
    const email = await (await getConv('e1')).json() as any;
    assert.ok(Array.isArray(email.participants[0].emails));
  });

  it('details query: interval, order, paging and totalHits', async () => {
    for (let i = 0; i < 5; i++) start(`c${i}`, i * 60);
    sim.world.update('c0', { state: 'ended', endTime: iso(20) });
    start('late', 400);
    const interval = `${iso(30)}/${iso(300)}`;
    const p1 = await (await query({ interval, order: 'asc', orderBy: 'conversationStart', paging: { pageSize: 2, pageNumber: 1 } })).json() as any;
    assert.equal(p1.totalHits, 4, 'c0 ended before the interval, late started after it');
    assert.deepEqual(p1.conversations.map((c: AnalyticsConversation) => c.conversationId), ['c1', 'c2']);
    const p2 = await (await query({ interval, order: 'asc', paging: { pageSize: 2, pageNumber: 2 } })).json() as any;
    assert.deepEqual(p2.conversations.map((c: AnalyticsConversation) => c.conversationId), ['c3', 'c4']);
    const desc = await (await query({ interval, order: 'desc', paging: { pageSize: 10, pageNumber: 1 } })).json() as any;
    assert.deepEqual(desc.conversations.map((c: AnalyticsConversation) => c.conversationId), ['c4', 'c3', 'c2', 'c1']);
    const c = p1.conversations[0] as AnalyticsConversation;
    assert.equal(c.conversationStart, iso(60));
    assert.equal(c.participants[1].purpose, 'acd');
    assert.equal(c.participants[1].sessions[0].segments[0].queueId, 'q1');
    assert.equal(c.participants[1].sessions[0].mediaType, 'voice');
  });

  it('includes a conversation that started before the interval but changed inside it', async () => {
    start('old', -3600);
    sim.world.update('old', { state: 'connected', agentId: 'u1', connectedTime: iso(-3500) });
    const before = Date.now();
    sim.world.update('old', { state: 'ended', endTime: new Date(before).toISOString() });
    const body = await (await query({ interval: `${new Date(before - 5000).toISOString()}/${new Date(before + 5000).toISOString()}` })).json() as any;
    assert.deepEqual(body.conversations.map((c: any) => c.conversationId), ['old']);
    assert.equal(body.conversations[0].conversationEnd, new Date(before).toISOString());
    const ledger = sim.ledger.byPath('details-query');
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0].eventId, 'old:3');
    await query({ interval: `${new Date(before - 5000).toISOString()}/${new Date(before + 5000).toISOString()}` });
    assert.equal(sim.ledger.byPath('details-query').length, 1, 'the same snapshot is not recorded twice');
  });

  it('renders agent segments and metrics, and filters by queue and media type', async () => {
    start('v1', 0, 'voice', 'qa');
    sim.world.update('v1', { state: 'connected', agentId: 'u9', agentName: 'Bo', connectedTime: iso(15) });
    sim.world.update('v1', { state: 'wrapup', wrapupStartTime: iso(75) });
    sim.world.update('v1', { state: 'ended', endTime: iso(95) });
    start('m1', 1, 'sms', 'qb');
    const interval = `${iso(-10)}/${iso(600)}`;
    const all = await (await query({ interval })).json() as any;
    assert.equal(all.totalHits, 2);
    const v1 = all.conversations.find((c: any) => c.conversationId === 'v1') as AnalyticsConversation;
    const agent = v1.participants.find((p) => p.purpose === 'agent')!;
    assert.deepEqual(agent.sessions[0].segments.map((s) => s.segmentType), ['interact', 'wrapup']);
    const metrics = Object.fromEntries(agent.sessions[0].metrics!.map((m) => [m.name, m.value]));
    assert.deepEqual(metrics, { tAnswered: 15000, tTalkComplete: 60000, tAcw: 20000, tHandle: 80000 });
    const m1 = all.conversations.find((c: any) => c.conversationId === 'm1');
    assert.equal(m1.participants[0].sessions[0].mediaType, 'message');
    const qb = await (await query({ interval, segmentFilters: [{ type: 'and', predicates: [{ dimension: 'queueId', value: 'qb' }] }] })).json() as any;
    assert.deepEqual(qb.conversations.map((c: any) => c.conversationId), ['m1']);
    const media = await (await query({ interval, segmentFilters: [{ type: 'or', predicates: [{ dimension: 'mediaType', value: 'voice' }, { dimension: 'mediaType', value: 'email' }] }] })).json() as any;
    assert.deepEqual(media.conversations.map((c: any) => c.conversationId), ['v1']);
  });

  it('an empty answer has no conversations key on the platform, [] in guide mode', async () => {
    const interval = `${iso(0)}/${iso(60)}`;
    assert.deepEqual(await (await query({ interval })).json(), { totalHits: 0 });
    sim.mode = 'guide';
    assert.deepEqual(await (await query({ interval })).json(), { conversations: [], totalHits: 0 });
  });

  it('rejects bad queries with 400 and a Genesys error body', async () => {
    const bad = [
      {}, { interval: 'yesterday' }, { interval: `${iso(60)}/${iso(0)}` }, { interval: `${iso(0)}/${iso(8 * 86400)}` },
      { interval: `${iso(0)}/${iso(60)}`, paging: { pageSize: 101 } }, { interval: `${iso(0)}/${iso(60)}`, paging: { pageNumber: 0 } },
      { interval: `${iso(0)}/${iso(60)}`, order: 'sideways' }, { interval: `${iso(0)}/${iso(60)}`, orderBy: 'mood' },
      { interval: `${iso(0)}/${iso(60)}`, segmentFilters: 'queue' },
    ];
    for (const b of bad) {
      const res = await query(b);
      assert.equal(res.status, 400, JSON.stringify(b));
      const body = await res.json() as any;
      assert.equal(body.code, 'bad.request');
      assert.ok(body.message);
    }
    const notJson = await fetch(`${sim.baseUrl}/api/v2/analytics/conversations/details/query`, { method: 'POST', headers: auth, body: 'interval=x' });
    assert.equal(notJson.status, 400);
  });
});
