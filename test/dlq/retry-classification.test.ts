import { strict as assert } from 'node:assert';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { classifyFailure, retryDelayMs } from '../../lib/kafka/retry-classification';
import { GenesysApiError } from '../../lib/genesys/types';
import { scrubSecrets } from '../../lib/kafka/dlq-scrub';

const httpError = (status: number): Error => Object.assign(new Error(`request failed with status ${status}`), { status });

describe('dlq retry classification', () => {
  it('retries 429, 500, 502, 503, 504 and nothing else among HTTP statuses (guide 000)', () => {
    const retried = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 501, 502, 503, 504, 505].filter((s) => classifyFailure(httpError(s)).retryable);
    assert.deepEqual(retried, [429, 500, 502, 503, 504]);
    assert.equal(classifyFailure(httpError(429)).reason, 'rate-limit');
    assert.equal(classifyFailure(httpError(503)).reason, 'http-5xx');
    assert.equal(classifyFailure(httpError(501)).reason, 'http-5xx');
    assert.equal(classifyFailure(httpError(400)).reason, 'validation');
    assert.equal(classifyFailure(httpError(422)).reason, 'validation');
    assert.equal(classifyFailure(httpError(401)).reason, 'auth');
    assert.equal(classifyFailure(httpError(403)).reason, 'auth');
    assert.equal(classifyFailure(httpError(404)).reason, 'http-4xx');
    assert.equal(classifyFailure({ statusCode: '502', message: 'bad gateway' }).status, 502);
  });

  it('reads GenesysApiError status and Retry-After', () => {
    const c = classifyFailure(new GenesysApiError('Rate limit exceeded the maximum. Retry the request in [42] seconds', 429, {}, 42_000));
    assert.deepEqual([c.reason, c.retryable, c.status, c.retryAfterMs, c.errorClass], ['rate-limit', true, 429, 42_000, 'GenesysApiError']);
  });

  it('treats socket errors and retriable kafkajs errors as transport (retried)', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED']) {
      const c = classifyFailure(Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code }));
      assert.deepEqual([c.reason, c.retryable, c.code], ['transport', true, code]);
    }
    assert.equal(classifyFailure(new Error('socket hang up')).reason, 'transport');
    assert.equal(classifyFailure(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1')).reason, 'transport');
    const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 100 });
    assert.deepEqual([classifyFailure(exhausted).reason, classifyFailure(exhausted).retryable], ['transport', true]);
    const leader = new KafkaJSProtocolError({ message: 'leader not available', type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true } as any);
    assert.equal(classifyFailure(leader).retryable, true);
  });

  it('does not retry validation, auth and poison failures', () => {
    const tooLarge = new KafkaJSProtocolError({ message: 'The request included a message larger than the max message size', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as any);
    assert.deepEqual([classifyFailure(tooLarge).reason, classifyFailure(tooLarge).retryable], ['poison', false]);
    assert.equal(classifyFailure(new (KafkaJSSASLAuthenticationError as any)('SASL PLAIN authentication failed')).reason, 'auth');
    const acl = new KafkaJSProtocolError({ message: 'Not authorized to access topics', type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false } as any);
    assert.equal(classifyFailure(acl).reason, 'auth');
    assert.equal(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')")).reason, 'poison');
    assert.equal(classifyFailure({ reason: 'validation', message: 'must have required property event_id', path: '/event_id' }).path, '/event_id');
    assert.equal(classifyFailure({ errors: [{ instancePath: '/sequence', message: 'must be integer' }], message: 'invalid' }).reason, 'validation');
  });

  it('classifies what a Catch node hands over (class and status only in the text, cause kept)', () => {
    const fromCatch = (message: string, extra: Record<string, unknown> = {}) => ({ message, source: { id: 'n1', type: 'genesys-events-out', name: 'out', count: 1 }, ...extra });
    const c = classifyFailure(fromCatch('GenesysApiError: HTTP 503 Service Unavailable'));
    assert.deepEqual([c.reason, c.retryable, c.status, c.errorClass, c.message, c.sourceNode?.type], ['http-5xx', true, 503, 'GenesysApiError', 'HTTP 503 Service Unavailable', 'genesys-events-out']);
    assert.equal(classifyFailure(fromCatch('Error: 422 Unprocessable Entity')).reason, 'validation');
    assert.equal(classifyFailure(fromCatch('Error: connect ECONNREFUSED 127.0.0.1:9092', { code: 'ECONNREFUSED' })).retryable, true);
    const kafkaOut = fromCatch('KafkaSendError: Connection error', { cause: new KafkaJSConnectionError('Connection error: connect ECONNREFUSED') });
    assert.equal(classifyFailure(kafkaOut).reason, 'transport');
    const boom = classifyFailure(fromCatch('Error: boom'));
    assert.deepEqual([boom.reason, boom.retryable, boom.message], ['unknown', false, 'boom']);
  });

  it('says clearly when there is no error at all', () => {
    const c = classifyFailure(undefined);
    assert.deepEqual([c.reason, c.retryable], ['unknown', false]);
    assert.match(c.message, /msg\.error is missing/);
  });

  it('never keeps a token or secret in the error text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const text = `401 from https://api.example/x?access_token=abc123&x=1 Authorization: Bearer ${jwt} client_secret=s3cr3t {"password":"hunter2"} amqp://user:pw@host`;
    const clean = scrubSecrets(text);
    for (const secret of ['abc123', jwt, 's3cr3t', 'hunter2', 'user:pw']) assert.ok(!clean.includes(secret), `${secret} in ${clean}`);
    assert.ok(!classifyFailure(new Error(text)).message.includes('s3cr3t'));
  });

  it('backs off exponentially with jitter, capped, honouring Retry-After', () => {
    const d = [1, 2, 3, 10].map((a) => retryDelayMs(a, { baseMs: 100, maxMs: 1000 }));
    assert.ok(d[0] >= 80 && d[0] <= 120 && d[1] >= 160 && d[1] <= 240 && d[2] >= 320 && d[2] <= 480 && d[3] <= 1200, String(d));
    assert.equal(retryDelayMs(1, { baseMs: 100, maxMs: 5000, retryAfterMs: 3000 }), 3000);
  });
});
