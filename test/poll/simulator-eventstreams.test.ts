import { strict as assert } from 'node:assert';
import type { EventStreamPollResponse } from '../../lib/genesys/shapes';
import { interactionStream, startConversations, startRig, sleep, type PollRig } from './support';

describe('simulator: event stream poll endpoint (guide 002)', () => {
  let rig: PollRig;
  let token: string;
  beforeEach(async () => { rig = await startRig(); token = await rig.tokens.getToken(); });
  afterEach(() => rig.close());

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> => {
    const res = await fetch(rig.sim.baseUrl + path, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* raw */ }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const poll = (id: string, q = ''): Promise<{ status: number; headers: Headers; body: EventStreamPollResponse & { code?: string } }> =>
    call('GET', `/api/v2/eventstreams/${id}/poll${q}`);

  it('creates a subscription and rejects bad ones with 400', async () => {
    assert.equal((await call('POST', '/api/v2/eventstreams', { eventTypes: [{ entityType: 'interaction', eventType: 'created' }] })).status, 400);
    assert.equal((await call('POST', '/api/v2/eventstreams', { name: 'x', eventTypes: [] })).status, 400);
    assert.equal((await call('POST', '/api/v2/eventstreams', { name: 'x', eventTypes: [{ entityType: 'queue', eventType: 'created' }] })).status, 400);
    const badFilter = await call('POST', '/api/v2/eventstreams', { name: 'x', eventTypes: [{ entityType: 'interaction', eventType: 'created', filter: '{"direction":' }] });
    assert.equal(badFilter.status, 400);
    assert.match(badFilter.body.message, /filter/);
    const ok = await call('POST', '/api/v2/eventstreams', {
      name: 'Production-Interaction-Stream',
      eventTypes: [{ entityType: 'interaction', eventType: 'created', filter: '{"direction": "inbound"}' }],
    });
    assert.equal(ok.status, 201);
    assert.equal(typeof ok.body.id, 'string');
    assert.equal((await call('GET', `/api/v2/eventstreams/${ok.body.id}`)).body.name, 'Production-Interaction-Stream');
    assert.equal((await poll('no-such-stream')).status, 404);
    const unauth = await fetch(`${rig.sim.baseUrl}/api/v2/eventstreams/${ok.body.id}/poll`);
    assert.equal(unauth.status, 401);
  });

  it('filters at subscription level: only matching events enter the stream', async () => {
    const created = await call('POST', '/api/v2/eventstreams', {
      name: 'inbound-completed',
      eventTypes: [
        { entityType: 'interaction', eventType: 'created', filter: '{"direction": "inbound"}' },
        { entityType: 'interaction', eventType: 'updated', filter: '{\n "status": ["completed", "disconnected"]\n }' },
      ],
    });
    const [inbound] = startConversations(rig.sim, 1, { direction: 'inbound' });
    startConversations(rig.sim, 1, { direction: 'outbound' });
    rig.sim.world.update(inbound, { state: 'connected', connectedTime: new Date().toISOString() });
    rig.sim.world.update(inbound, { state: 'wrapup', wrapupStartTime: new Date().toISOString() });
    rig.sim.world.update(inbound, { state: 'ended', endTime: new Date().toISOString() });
    const page = await poll(created.body.id);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.events.map((e) => [e.eventType, e.entity.id, e.entity.status]), [
      ['created', inbound, 'queued'], ['updated', inbound, 'disconnected'], ['updated', inbound, 'completed'],
    ]);
  });

  it('pages with a cursor, returns what followed an old cursor, and records each event in the ledger', async () => {
    const stream = interactionStream(rig);
    startConversations(rig.sim, 5);
    const p1 = await poll(stream.subscription.id, '?limit=2');
    assert.deepEqual([p1.body.events.length, p1.body.hasMore], [2, true]);
    const p2 = await poll(stream.subscription.id, `?limit=2&cursor=${p1.body.cursor}`);
    const p3 = await poll(stream.subscription.id, `?limit=2&cursor=${p2.body.cursor}`);
    assert.deepEqual([p2.body.events.length, p2.body.hasMore, p3.body.events.length, p3.body.hasMore], [2, true, 1, false]);
    const ids = [...p1.body.events, ...p2.body.events, ...p3.body.events].map((e) => e.id);
    assert.deepEqual(ids, stream.published);
    assert.deepEqual(rig.sim.ledger.byPath('eventstream').map((e) => e.eventId), ids);
    const again = await poll(stream.subscription.id, `?limit=10&cursor=${p1.body.cursor}`);
    assert.deepEqual(again.body.events.map((e) => e.id), ids.slice(2));
    const empty = await poll(stream.subscription.id, `?cursor=${p3.body.cursor}`);
    assert.deepEqual([empty.body.events.length, empty.body.cursor, empty.body.hasMore], [0, p3.body.cursor, false]);
    const e = p1.body.events[0];
    assert.equal(e.entityType, 'interaction');
    assert.ok(Date.parse(e.timestamp));
    assert.equal(e.entity.queueName, 'Sales');
  });

  it('answers 410 for a cursor older than retention, 400 for a bad cursor or limit', async () => {
    const stream = interactionStream(rig);
    rig.streams.retention = 3;
    startConversations(rig.sim, 2);
    const first = await poll(stream.subscription.id, '?limit=1');
    startConversations(rig.sim, 3);
    const gone = await poll(stream.subscription.id, `?cursor=${first.body.cursor}`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.code, 'cursor.expired');
    assert.equal((await poll(stream.subscription.id, '?cursor=garbage')).status, 400);
    assert.equal((await poll(stream.subscription.id, '?limit=0')).status, 400);
    const fresh = await poll(stream.subscription.id);
    assert.equal(fresh.body.events.length, 3, 'no cursor: from the oldest retained event');
  });

  it('rate limits per token with 429, Retry-After and both header families', async () => {
    const stream = interactionStream(rig);
    rig.streams.rateLimit = { limit: 3, windowMs: 1000 };
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await poll(stream.subscription.id);
      assert.equal(r.status, 200);
      seen.push(r.headers.get('x-ratelimit-remaining')!);
      assert.equal(r.headers.get('x-ratelimit-limit'), '3');
      assert.equal(r.headers.get('inin-ratelimit-allowed'), '3');
    }
    assert.deepEqual(seen, ['2', '1', '0']);
    const limited = await poll(stream.subscription.id);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.body.code, 'too.many.requests.retry.after');
    await sleep(1050);
    assert.equal((await poll(stream.subscription.id)).status, 200);
  });

  it('honours delivery flags: duplicate twice with one ledger entry, malformed broken, delayed overtaken', async () => {
    const stream = interactionStream(rig);
    const base = { mediaType: 'chat' as const, direction: 'inbound' as const, queueId: 'q', queueName: 'Q', customerAddress: 'x', startTime: new Date().toISOString() };
    rig.sim.world.start({ id: 'dup', ...base }, { duplicate: true });
    rig.sim.world.start({ id: 'bad', ...base }, { malformed: true });
    rig.sim.world.start({ id: 'late', ...base }, { delayMs: 80 });
    rig.sim.world.start({ id: 'ontime', ...base });
    await sleep(150);
    const page = await poll(stream.subscription.id);
    const events = page.body.events as any[];
    assert.deepEqual(events.map((e) => (typeof e.entity === 'object' ? e.entity.id : 'broken')), ['dup', 'dup', 'broken', 'ontime', 'late']);
    assert.equal(events[0].id, events[1].id);
    const ledger = rig.sim.ledger.byPath('eventstream');
    assert.equal(ledger.length, 4);
    assert.equal(ledger.filter((e) => e.malformed).length, 1);
    assert.equal(events[2].timestamp, undefined);
  });

  it('emits agentstate events to streams subscribed to them', async () => {
    const created = await call('POST', '/api/v2/eventstreams', { name: 'agents', eventTypes: [{ entityType: 'agentstate', eventType: 'updated' }] });
    const [id] = startConversations(rig.sim, 1);
    rig.sim.world.update(id, { state: 'connected', agentId: 'agent-1', agentName: 'Ann', connectedTime: new Date().toISOString() });
    rig.sim.world.update(id, { state: 'ended', endTime: new Date().toISOString() });
    const page = await poll(created.body.id);
    assert.deepEqual(page.body.events.map((e) => [e.entityType, e.entity.id, e.entity.status, e.entity.conversationId]), [
      ['agentstate', 'agent-1', 'busy', id], ['agentstate', 'agent-1', 'available', id],
    ]);
  });
});
