// Generated WebSocket frames (notification channels, the realtime analytics socket) and poll
// responses (event stream pages): valid ones interleaved with every kind of garbage. Each says
// whether a correct source emits it, so the tests can compare with what reached the flow.
import type { Rng } from './prng';
import { validEvent } from './webhook';

export interface Frame { cls: string; data: string | Buffer; emits: boolean }

const DEEP = 100_000;
const deepArray = (d: number): string => '['.repeat(d) + ']'.repeat(d);

function conversationBody(rng: Rng): Record<string, unknown> {
  return {
    id: rng.uuid(),
    participants: [
      { id: rng.uuid(), purpose: 'customer', calls: [{ id: rng.uuid(), state: rng.pick(['ALERTING', 'connected', 'DISCONNECTED']) }] },
      { id: rng.uuid(), purpose: 'agent', userId: rng.uuid(), name: rng.text(0, 12), attributes: { note: rng.text() } },
    ],
  };
}

/** Bodies with the right envelope but odd content: still events (normalize and the DLQ judge them). */
function oddBody(rng: Rng): Record<string, unknown> {
  return rng.pick<Record<string, unknown>>([
    { id: 123, participants: 'none' },
    { id: rng.uuid(), participants: [null, 1, 'x', [], { calls: {} }, { calls: [null, 7, { state: 42 }] }] },
    { id: null, endTime: 17, state: { not: 'a string' } },
    { id: rng.uuid(), participants: [{ purpose: 'agent', wrapupRequired: 'yes', endTime: [], state: false }] },
    { conversationId: ['a'], id: { nested: true } },
    { id: 'x'.repeat(1000), participants: [{ endTime: '' }] },
    JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"id":"proto-test"}'),
    {},
  ]);
}

/** One notification channel frame; `topics` are the subscribed topics. */
export function notificationFrame(rng: Rng, topics: readonly string[]): Frame {
  const topic = rng.pick(topics);
  const env = (eventBody: unknown, topicName: unknown = topic) => JSON.stringify({ topicName, version: '2', eventBody, metadata: { CorrelationId: rng.uuid() } });
  const kind = rng.weighted({
    valid: 30, 'valid, large': 0.3, 'odd eventBody content': 6, 'invalid JSON': 6, 'binary frame': 4, 'not an object': 4,
    'no or bad topicName': 4, 'unknown topic': 5, 'eventBody missing or not an object': 5, 'eventBody an array': 2,
    'deep nesting': 0.4, 'deep nesting at 100k': 0.05, heartbeat: 3, 'other system topic': 1, 'empty frame': 1,
  });
  switch (kind) {
    case 'valid': return { cls: kind, data: env(conversationBody(rng)), emits: true };
    case 'valid, large': return { cls: kind, data: env({ ...conversationBody(rng), pad: 'x'.repeat(rng.int(100_000, 2_000_000)) }), emits: true };
    case 'odd eventBody content': return { cls: kind, data: env(oddBody(rng)), emits: true };
    case 'invalid JSON': {
      const v = env(conversationBody(rng));
      return { cls: kind, data: rng.pick([v.slice(0, rng.int(1, v.length - 1)), `${v}}`, v.replace(/"/, "'"), rng.text(1, 40), 'undefined', 'NaN', '{"topicName":"t",}']), emits: false };
    }
    case 'binary frame': return { cls: kind, data: rng.bool() ? Buffer.from(env(conversationBody(rng))) : rng.bytes(rng.int(1, 300)), emits: false };
    case 'not an object': return { cls: kind, data: rng.pick(['null', '1', '"v2.routing"', 'true', '[]', JSON.stringify([JSON.parse(env({}))])]), emits: false };
    case 'no or bad topicName': {
      const bad = rng.pick([undefined, null, 7, ['t'], { t: 1 }, true]);
      return { cls: kind, data: JSON.stringify({ ...(bad === undefined ? {} : { topicName: bad }), version: '2', eventBody: conversationBody(rng) }), emits: false };
    }
    case 'unknown topic': return { cls: kind, data: env(conversationBody(rng), rng.pick([`v2.routing.queues.${rng.uuid()}.conversations`, '', ' ', `${topic}.x`, topic.toUpperCase(), 'v2.users.*.conversations'])), emits: false };
    case 'eventBody missing or not an object': return { cls: kind, data: rng.bool(0.3) ? JSON.stringify({ topicName: topic }) : env(rng.pick([null, 'body', 0, 1, false, true])), emits: false };
    case 'eventBody an array': return { cls: kind, data: env(rng.pick([[], [conversationBody(rng)], [1, 2]])), emits: false };
    case 'deep nesting': return { cls: kind, data: `{"topicName":${JSON.stringify(topic)},"eventBody":{"id":"deep","x":${deepArray(rng.int(200, 5000))}}}`, emits: false };
    case 'deep nesting at 100k': return { cls: kind, data: `{"topicName":${JSON.stringify(topic)},"eventBody":${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}}`, emits: false };
    case 'heartbeat': return { cls: kind, data: JSON.stringify({ topicName: 'channel.metadata', eventBody: rng.pick([{ message: 'WebSocket Heartbeat' }, { message: 'pong' }, null, 'x', [1]]) }), emits: false };
    case 'other system topic': return { cls: kind, data: JSON.stringify({ topicName: `v2.system.${rng.pick(['maintenance', 'x', ''])}`, eventBody: rng.pick([{ reason: rng.text() }, null, 3]) }), emits: false };
    default: return { cls: kind, data: '', emits: false };
  }
}

/** One realtime analytics socket frame (guide 004 protocol). */
export function analyticsFrame(rng: Rng): Frame {
  const event = (eventType: unknown, data: unknown) => JSON.stringify({ type: 'event', eventType, data });
  const valid = () => ({ conversationId: rng.uuid(), sequence: rng.int(0, 1e6), queueId: rng.uuid(), mediaType: rng.pick(['voice', 'chat']), state: rng.text(1, 8) });
  const kind = rng.weighted({
    valid: 30, 'invalid JSON': 6, 'binary frame': 4, 'not an object': 4, 'unknown eventType': 4, 'no conversationId': 5,
    'server error': 1, 'info or unknown type': 3, 'deep nesting': 0.4, 'deep nesting at 100k': 0.05, 'odd data content': 4, 'empty frame': 1,
  });
  const eventType = rng.pick(['conversation:start', 'conversation:update', 'conversation:end']);
  switch (kind) {
    case 'valid': return { cls: kind, data: event(eventType, valid()), emits: true };
    case 'odd data content': return { cls: kind, data: event(eventType, { ...valid(), participants: 'x', sequence: 'seven', metrics: [null, { n: {} }] }), emits: true };
    case 'invalid JSON': { const v = event(eventType, valid()); return { cls: kind, data: rng.pick([v.slice(0, rng.int(1, v.length - 1)), rng.text(1, 30), '{,}']), emits: false }; }
    case 'binary frame': return { cls: kind, data: rng.bool() ? Buffer.from(event(eventType, valid())) : rng.bytes(rng.int(1, 200)), emits: false };
    case 'not an object': return { cls: kind, data: rng.pick(['null', '7', '"event"', '[]', `[${event(eventType, valid())}]`]), emits: false };
    case 'unknown eventType': return { cls: kind, data: event(rng.pick(['conversation:begin', '', null, 5, 'CONVERSATION:START']), valid()), emits: false };
    case 'no conversationId': return { cls: kind, data: event(eventType, rng.pick([undefined, null, 'data', [], { conversationId: 9 }, { conversationId: '' }])), emits: false };
    case 'server error': return { cls: kind, data: JSON.stringify({ type: 'error', code: rng.text(1, 8), message: rng.text(0, 300) }), emits: false };
    case 'info or unknown type': return { cls: kind, data: JSON.stringify({ type: rng.pick(['info', 'heartbeat', 7, null]), message: rng.text() }), emits: false };
    case 'deep nesting': return { cls: kind, data: `{"type":"event","eventType":"${eventType}","data":{"conversationId":"deep","x":${deepArray(rng.int(200, 5000))}}}`, emits: false };
    case 'deep nesting at 100k': return { cls: kind, data: `{"type":"event","eventType":"${eventType}","data":{"conversationId":"deep","x":${deepArray(DEEP)}}}`, emits: false };
    default: return { cls: kind, data: '', emits: false };
  }
}

/** A canned poll answer (simulator PollOverride) and what a correct poller does with it. */
export interface PollCase {
  cls: string;
  override: { status?: number; body?: unknown; rawBody?: string; headers?: Record<string, string> };
  /** Events a correct poller emits from this answer. */
  emits: number;
  /** Reported as an error (a Catch node sees it) rather than a retried warning. */
  reported: boolean;
}

const streamEvent = (rng: Rng): Record<string, unknown> => ({
  id: rng.uuid(), entityType: 'interaction', eventType: rng.pick(['created', 'updated']), timestamp: new Date().toISOString(),
  entity: { id: rng.uuid(), conversationId: rng.uuid(), sequence: rng.int(0, 1e6), state: rng.text(1, 8), queue: { id: rng.uuid() } },
});

let cursorSeq = 0;
/** One event stream poll answer. Every valid page carries a fresh cursor (every poll of the run is canned). */
export function pollCase(rng: Rng, maxPageEvents: number): PollCase {
  const cursor = () => `fuzz-cursor-${++cursorSeq}`;
  const page = (events: unknown[], extra: Record<string, unknown> = {}) => ({ body: { events, cursor: cursor(), hasMore: rng.bool(0.3), ...extra } });
  const kind = rng.weighted({
    'valid page': 30, 'empty page': 5, 'page with odd events': 5, 'page with a too deep event': 2, 'not JSON': 5, 'not an object': 4,
    'no events array': 4, 'no cursor': 4, 'too many events': 1, 'large page': 0.5, '5xx with garbage': 4, '4xx with garbage': 3,
    '429 with odd Retry-After': 2, 'wrong content type': 2, 'hasMore not a boolean': 2,
  });
  switch (kind) {
    case 'valid page': { const n = rng.int(1, 20); return { cls: kind, override: page(Array.from({ length: n }, () => streamEvent(rng))), emits: n, reported: false }; }
    case 'empty page': return { cls: kind, override: page([]), emits: 0, reported: false };
    // Non-object events are handed on: normalize sends them to the DLQ with a reason (nothing dropped at the source).
    case 'page with odd events': { const evs = [streamEvent(rng), null, 7, 'x', [], { entity: 'nope' }, validEvent(rng)]; return { cls: kind, override: page(evs), emits: evs.length, reported: false }; }
    case 'page with a too deep event': {
      const good = [streamEvent(rng), streamEvent(rng)];
      const rawBody = `{"events":[${JSON.stringify(good[0])},{"id":"deep","entity":${deepArray(rng.int(200, 20_000))}},${JSON.stringify(good[1])}],"cursor":"${cursor()}","hasMore":false}`;
      return { cls: kind, override: { rawBody }, emits: 2, reported: true };
    }
    case 'not JSON': return { cls: kind, override: { rawBody: rng.pick(['<html>gateway</html>', '{"events":[', rng.text(1, 50), '']) }, emits: 0, reported: true };
    case 'not an object': return { cls: kind, override: { rawBody: rng.pick(['[]', '[1]', 'null', '42', '"events"']) }, emits: 0, reported: true };
    case 'no events array': return { cls: kind, override: { body: { events: rng.pick([null, {}, 'x', 3]), cursor: cursor() } }, emits: 0, reported: true };
    case 'no cursor': return { cls: kind, override: { body: { events: [streamEvent(rng)], cursor: rng.pick([undefined, '', 5, null, {}]) } }, emits: 0, reported: true };
    case 'too many events': return { cls: kind, override: page(Array.from({ length: maxPageEvents + 1 }, (_, i) => ({ id: `e${i}` }))), emits: 0, reported: true };
    case 'large page': return { cls: kind, override: page([{ ...streamEvent(rng), pad: 'x'.repeat(rng.int(500_000, 3_000_000)) }]), emits: 1, reported: false };
    case '5xx with garbage': return { cls: kind, override: { status: rng.pick([500, 502, 503, 504]), rawBody: rng.pick(['', '<html/>', '{"message":', rng.text()]) }, emits: 0, reported: false };
    case '4xx with garbage': return { cls: kind, override: { status: rng.pick([400, 403, 404, 410, 418]), rawBody: rng.pick(['', '{"message":"no"}', rng.text()]) }, emits: 0, reported: true };
    case '429 with odd Retry-After': return { cls: kind, override: { status: 429, body: {}, headers: { 'retry-after': rng.pick(['abc', '-1', '', '0', 'Wed, 21 Oct 2015 07:28:00 GMT']) } }, emits: 0, reported: false };
    case 'wrong content type': { const n = rng.int(1, 3); const evs = Array.from({ length: n }, () => streamEvent(rng)); return { cls: kind, override: { rawBody: JSON.stringify({ events: evs, cursor: cursor() }), headers: { 'content-type': 'text/plain' } }, emits: n, reported: false }; }
    default: { const evs = [streamEvent(rng)]; return { cls: kind, override: page(evs, { hasMore: rng.pick(['true', 1, null]) }), emits: 1, reported: false }; }
  }
}
