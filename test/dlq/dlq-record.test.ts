import { strict as assert } from 'node:assert';
import { buildDeadLetter, parseDeadLetter, encodePayload, H } from '../../lib/kafka/dlq-record';
import { classifyFailure } from '../../lib/kafka/retry-classification';

const history = { attempts: 4, firstFailure: '2024-05-01T10:00:00.000Z', lastFailure: '2024-05-01T10:00:07.000Z' };
const genesys = { source: 'webhook' as const, receivedAt: '2024-05-01T09:59:59.000Z', deliveryId: 'x.0', topicName: 'v2.routing.queues.q1.conversations', claims: { sub: 'x' } };

const roundTrip = (built: ReturnType<typeof buildDeadLetter>) => parseDeadLetter({
  key: built.record.key as any, value: built.record.value as any, headers: built.record.headers as any, topic: 'genesys.dlq', partition: 0, offset: '7',
});

describe('dlq record (format and parser)', () => {
  it('carries the original event, key and Connect-style context headers, and reads back to the same event', () => {
    const payload = { event_id: 'e1', sequence: 3, nested: { ai_sentiment: { score: 0.5 } } };
    const failure = { ...classifyFailure({ message: 'GenesysApiError: HTTP 503 Service Unavailable', source: { id: 'n1', type: 'kafka-out', name: 'to kafka' } }), stack: 'Error: x\n    at y (z.js:1:1)' };
    const built = buildDeadLetter({ payload, key: 'conv-1', topic: 'genesys.interactions', headers: { 'x-trace': 'abc' }, genesys }, failure, history, { topic: 'genesys.dlq', dlqNodeId: 'dlq1' });
    const h = built.record.headers as Record<string, string>;
    assert.equal(built.record.topic, 'genesys.dlq');
    assert.equal(built.record.key, 'conv-1');
    assert.deepEqual(JSON.parse(String(built.record.value)), payload);
    assert.equal(h[H.reason], 'http-5xx');
    assert.equal(h[H.retryable], 'true');
    assert.equal(h[H.message], 'HTTP 503 Service Unavailable');
    assert.equal(h[H.errorClass], 'GenesysApiError');
    assert.equal(h[H.status], '503');
    assert.equal(h[H.sourceType], 'kafka-out');
    assert.equal(h[H.sourceId], 'n1');
    assert.equal(h[H.attempts], '4');
    assert.equal(h[H.firstFailure], history.firstFailure);
    assert.equal(h[H.lastFailure], history.lastFailure);
    assert.equal(h[H.originalTopic], 'genesys.interactions');
    assert.equal(h[H.genesysSource], 'webhook');
    assert.equal(h[H.genesysReceivedAt], genesys.receivedAt);
    assert.equal(h['x-trace'], 'abc');
    assert.match(h[H.stack], /at y/);
    assert.ok(!JSON.stringify(h).includes('deliveryId') && !Object.values(h).includes('x.0'), 'process-local delivery ids stay out');

    const back = roundTrip(built);
    assert.deepEqual(back.payload, payload);
    assert.equal(back.key, 'conv-1');
    assert.deepEqual(back.headers, { 'x-trace': 'abc' });
    assert.deepEqual(back.genesys, { source: 'webhook', receivedAt: genesys.receivedAt, topicName: genesys.topicName });
    assert.equal(back.context.reason, 'http-5xx');
    assert.equal(back.context.attempts, 4);
    assert.equal(back.context.status, 503);
    assert.equal(back.context.originalTopic, 'genesys.interactions');
    assert.deepEqual(back.position, { topic: 'genesys.dlq', partition: 0, offset: '7' });
  });

  it('keeps raw bytes and strings as they were', () => {
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    const b = roundTrip(buildDeadLetter({ payload: bytes, key: 'k' }, classifyFailure(new Error('x')), history, { topic: 't' }));
    assert.ok(Buffer.isBuffer(b.payload) && bytes.equals(b.payload as Buffer));
    const s = roundTrip(buildDeadLetter({ payload: '{"not":"parsed"}', key: 'k' }, classifyFailure(new Error('x')), history, { topic: 't' }));
    assert.equal(s.payload, '{"not":"parsed"}');
  });

  it('falls back to the conversation id for the key', () => {
    const b = buildDeadLetter({ payload: { conversation_id: 'c-9' } }, classifyFailure(new Error('x')), history, { topic: 't' });
    assert.equal(b.record.key, 'c-9');
    assert.equal(buildDeadLetter({ payload: 1 }, classifyFailure(new Error('x')), history, { topic: 't' }).record.key, null);
  });

  it('stores a missing or non-serializable payload with a clear problem header instead of throwing', () => {
    assert.deepEqual(encodePayload(undefined), { value: null, format: 'missing', problem: 'msg.payload is missing' });
    const circular: any = { a: 1, big: 10n };
    circular.self = circular;
    const e = encodePayload(circular);
    assert.match(e.problem!, /not serializable/);
    assert.deepEqual(JSON.parse(String(e.value)), { a: 1, big: '10', self: '[Circular]' });
    const built = buildDeadLetter({ payload: circular, key: 'k' }, classifyFailure(new Error('x')), history, { topic: 't' });
    assert.match((built.record.headers as any)[H.payloadProblem], /not serializable/);
    const missing = roundTrip(buildDeadLetter({ payload: undefined, key: 'k' }, classifyFailure(new Error('x')), history, { topic: 't' }));
    assert.equal(missing.payload, undefined);
    assert.equal(missing.context.payloadProblem, 'msg.payload is missing');
  });

  it('never lets the event\'s own headers overwrite the dlq context, and scrubs tokens from the error', () => {
    const built = buildDeadLetter({ payload: {}, key: 'k', headers: { 'dlq.reason': 'forged' } },
      classifyFailure(new Error('failed: Authorization: Bearer abc.def.ghi')), history, { topic: 't' });
    const h = built.record.headers as Record<string, string>;
    assert.equal(h[H.reason], 'unknown');
    assert.ok(!h[H.message].includes('abc.def.ghi'), h[H.message]);
  });

  it('reads a record without our headers as an unknown-reason event', () => {
    const p = parseDeadLetter({ key: null, value: Buffer.from('{"a":1}') });
    assert.deepEqual([p.payload, p.context.reason, p.key], [{ a: 1 }, 'unknown', null]);
  });
});
