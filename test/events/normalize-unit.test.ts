// normalize: vocabulary, flattening corner cases, detection, and robustness against odd input.
import * as assert from 'node:assert/strict';
import { detectShape, eventKey, interactionSchema, mapMedia, mapState, normalizeEvent } from '../../lib/events/normalize';

const meta = { source: 'notification' as const, receivedAt: '2024-05-01T11:00:00.000Z' };
const T = (s: string) => `2024-05-01T10:${s}.000Z`;
const body = (participants: any[], extra: Record<string, unknown> = {}) => ({ id: 'conv-u', participants, ...extra });
const customer = (state: string, extra: Record<string, unknown> = {}) =>
  ({ id: 'pc', purpose: 'customer', address: 'tel:+1', calls: [{ id: 'sc', state, direction: 'inbound', connectedTime: T('00:00'), ...extra }] });
const acd = (state: string, extra: Record<string, unknown> = {}, pExtra: Record<string, unknown> = {}) =>
  ({ id: 'pq', purpose: 'acd', queueId: 'q1', name: 'Q1', ...pExtra, calls: [{ id: 'sq', state, connectedTime: T('00:00'), ...extra }] });
const agent = (state: string, extra: Record<string, unknown> = {}, pExtra: Record<string, unknown> = {}) =>
  ({ id: 'pa', purpose: 'agent', userId: 'u1', name: 'A', ...pExtra, calls: [{ id: 'sa', state, ...extra }] });

function stateOf(b: any): string {
  const r = normalizeEvent(b, meta);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.event.state;
}

describe('normalize: vocabulary', () => {
  it('maps source states case-insensitively and keeps unknown ones in lower case', () => {
    assert.equal(mapState('CONNECTED'), 'connected');
    assert.equal(mapState('Alerting'), 'alerting');
    assert.equal(mapState('offering'), 'alerting');
    assert.equal(mapState('CONTACTING'), 'dialing');
    assert.equal(mapState('waiting'), 'queued');
    assert.equal(mapState('TERMINATED'), 'disconnected');
    assert.equal(mapState('ended'), 'disconnected');
    assert.equal(mapState('completed'), 'disconnected');
    assert.equal(mapState('Converting'), 'converting');
    assert.equal(mapState(''), undefined);
    assert.equal(mapState(3), undefined);
  });

  it('maps media to the four interaction types', () => {
    assert.equal(mapMedia('calls'), 'voice');
    assert.equal(mapMedia('callbacks'), 'voice');
    assert.equal(mapMedia('videos'), 'voice');
    assert.equal(mapMedia('chats'), 'chat');
    assert.equal(mapMedia('messages', 'webmessaging'), 'chat');
    assert.equal(mapMedia('messages', 'whatsapp'), 'chat');
    assert.equal(mapMedia('messages', 'SMS'), 'sms');
    assert.equal(mapMedia('message', 'sms'), 'sms');
    assert.equal(mapMedia('emails'), 'email');
    assert.equal(mapMedia('VOICE'), 'voice');
    assert.equal(mapMedia('fax'), undefined);
  });

  it('the shipped schema is draft-07 and forward compatible', () => {
    assert.equal(interactionSchema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(interactionSchema.additionalProperties, true);
    for (const f of ['event_id', 'sequence', 'timestamp', 'interaction_type', 'state']) assert.ok(interactionSchema.required.includes(f));
  });
});

describe('normalize: flattening conversation bodies', () => {
  it('transferred back to a queue: a new acd leg wins over the previous agent\'s open wrap-up', () => {
    const b = body([
      customer('connected'),
      acd('disconnected', { disconnectedTime: T('00:30') }, { id: 'pq1' }),
      agent('disconnected', { connectedTime: T('00:30'), disconnectedTime: T('02:00') }, { startAcwTime: T('02:00'), wrapupRequired: true }),
      acd('connected', { connectedTime: T('02:00') }, { id: 'pq2', queueId: 'q2', name: 'Q2' }),
    ]);
    const r = normalizeEvent(b, meta);
    assert.ok(r.ok);
    assert.equal(r.event.state, 'queued');
    assert.equal(r.event.queue_id, 'q2');
  });

  it('an agent who never answered (alert timed out) does not put the conversation into wrap-up', () => {
    assert.equal(stateOf(body([customer('connected'), acd('connected'), agent('disconnected', { disconnectType: 'timeout' }, { wrapupRequired: true })])), 'queued');
  });

  it('the newest active agent is the one the interaction is with', () => {
    const r = normalizeEvent(body([
      customer('connected'),
      agent('disconnected', { connectedTime: T('00:10'), disconnectedTime: T('01:00') }, { id: 'pa1', userId: 'u-old', name: 'Old', endAcwTime: T('01:10'), startAcwTime: T('01:00') }),
      agent('connected', { connectedTime: T('01:00') }, { id: 'pa2', userId: 'u-new', name: 'New' }),
    ]), meta);
    assert.ok(r.ok);
    assert.equal(r.event.agent_id, 'u-new');
    assert.equal(r.event.state, 'connected');
  });

  it('ivr, dialing, afterCallWork pending, and the body state as last resort', () => {
    assert.equal(stateOf(body([customer('connected'), { id: 'pi', purpose: 'ivr', calls: [{ id: 'si', state: 'connected' }] }])), 'ivr');
    assert.equal(stateOf(body([customer('contacting'), agent('dialing')])), 'dialing');
    assert.equal(stateOf(body([customer('disconnected'), agent('disconnected', { connectedTime: T('00:01'), afterCallWork: { state: 'pending', startTime: T('05:00') } })])), 'wrapup');
    assert.equal(stateOf(body([customer('disconnected'), agent('disconnected', { connectedTime: T('00:01'), afterCallWork: { state: 'complete', startTime: T('05:00'), endTime: T('05:30') } })])), 'disconnected');
    assert.equal(stateOf(body([acd('disconnected', { disconnectedTime: T('00:20') })], { state: 'Connected' })), 'connected');
  });

  it('wrap-up time from afterCallWork when the participant has no ACW times', () => {
    const r = normalizeEvent(body([customer('disconnected'), agent('disconnected', { connectedTime: T('00:01'), afterCallWork: { state: 'complete', startTime: T('05:00'), endTime: T('05:30') } })]), meta);
    assert.ok(r.ok);
    assert.equal(r.event.wrap_up_time_ms, 30_000);
  });

  it('a body without any time: timestamp from received_at (EventBridge: its time), sequence 0, same key on redelivery', () => {
    const b = body([{ id: 'p', purpose: 'agent', userId: 'u', chats: [{ id: 's', state: 'alerting' }] }]);
    const r1 = normalizeEvent({ topicName: 'v2.routing.queues.q9.conversations', eventBody: b }, meta);
    const r2 = normalizeEvent({ topicName: 'v2.routing.queues.q9.conversations', eventBody: b }, { ...meta, receivedAt: '2024-05-01T12:00:00.000Z' });
    assert.ok(r1.ok && r2.ok);
    assert.equal(r1.event.sequence, 0);
    assert.equal(r1.event.timestamp, meta.receivedAt);
    assert.equal(r1.event.event_id, r2.event.event_id);
    assert.equal(r1.event.queue_id, 'q9');
    const eb = normalizeEvent({ 'detail-type': 'v2.routing.queues.q9.conversations', id: 'x', source: 's', time: '2024-05-01T09:59:00Z', detail: { topicName: 'v2.routing.queues.q9.conversations', eventBody: b } }, { source: 'webhook', receivedAt: meta.receivedAt });
    assert.ok(eb.ok);
    assert.equal(eb.event.timestamp, '2024-05-01T09:59:00.000Z');
    assert.equal(eb.event.event_id, r1.event.event_id);
  });

  it('a delta without media anywhere takes the type from the topic, or fails naming /interaction_type', () => {
    const delta = body([{ id: 'p', purpose: 'agent', userId: 'u', connectedTime: T('00:05') }]);
    const typed = normalizeEvent({ topicName: 'v2.routing.queues.q1.conversations.emails', eventBody: delta }, meta);
    assert.ok(typed.ok);
    assert.equal(typed.event.interaction_type, 'email');
    const untyped = normalizeEvent({ topicName: 'v2.routing.queues.q1.conversations', eventBody: delta }, meta);
    assert.ok(!untyped.ok);
    assert.equal(untyped.error.path, '/interaction_type');
  });
});

describe('normalize: detection and odd input', () => {
  it('the source hint picks the mapper; sniffing is the fallback', () => {
    const conv = body([customer('connected')]);
    assert.equal(detectShape(conv, 'backfill')?.shape, 'conversation');
    assert.equal(detectShape({ topicName: 't', eventBody: conv }, undefined)?.shape, 'notification');
    assert.equal(detectShape({ type: 'event', eventType: 'conversation:update', data: {} }, 'webhook')?.shape, 'analytics-ws');
  });

  it('a forced shape that does not fit fails with unknown-shape', () => {
    const r = normalizeEvent({ id: 'x', participants: [] }, meta, { shape: 'push' });
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'unknown-shape');
    assert.match(r.error.message, /not a push event/);
  });

  it('never throws: circular, BigInt and prototype-less payloads become failures or events', () => {
    const circular: any = { data: { conversationId: 'c', type: 'voice', state: 'connected', timestamp: T('00:00') } };
    circular.data.self = circular;
    const r1 = normalizeEvent(circular, meta);
    assert.ok(!r1.ok);
    const r2 = normalizeEvent({ data: { conversationId: 'c', type: 'voice', state: 'connected', timestamp: T('00:00'), n: 1n } }, meta);
    assert.ok(!r2.ok);
    const bare = Object.assign(Object.create(null), { conversationId: 'c', type: 'chat', state: 'queued', timestamp: T('00:00') });
    assert.ok(normalizeEvent(bare, meta).ok);
  });

  it('eventKey: no key for things that are not events', () => {
    assert.equal(eventKey({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } }), undefined);
    assert.equal(eventKey({ id: 'e', entityType: 'agentstate', entity: {} }), undefined);
    assert.equal(eventKey(null), undefined);
    assert.equal(eventKey({ event_id: 'e', sequence: 0 }), 'e:0');
  });

  it('received_at defaults to now and source to the shape\'s usual source', () => {
    const before = Date.now();
    const r = normalizeEvent({ id: 'e1', entityType: 'interaction', eventType: 'created', timestamp: T('00:00'), entity: { id: 'c', mediaType: 'voice', status: 'queued' } });
    assert.ok(r.ok);
    assert.equal(r.event.source, 'eventstream');
    assert.ok(Date.parse(r.event.received_at) >= before - 5);
  });
});
