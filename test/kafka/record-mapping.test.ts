import { strict as assert } from 'node:assert';
import { toRecord, encodeValue, encodeHeaders, resolveKey, RecordMappingError } from '../../lib/kafka/record-mapping';
import { settingsFromNode, validateSettings, describeSettings, parseBrokers, toKafkaJsConfig } from '../../lib/kafka/config';
import { classifyError, KafkaSendError } from '../../lib/kafka/errors';
import { lz4Frame, compressionType } from '../../lib/kafka/codecs';

// A dotted-path getter like RED.util.getMessageProperty for these tests.
const get = (msg: object, path: string): unknown => path.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), msg);
const opts = { topic: 'fixed', topicFromMsg: false, keyProperty: 'key', headersFromMsg: true };

describe('kafka record mapping', () => {
  it('keys by msg.key, falling back to the conversation id in the payload', () => {
    assert.equal(resolveKey({ key: 'c-1', payload: { conversation_id: 'c-2' } }, 'key', get), 'c-1');
    assert.equal(resolveKey({ payload: { conversation_id: 'c-2' } }, 'key', get), 'c-2');
    assert.equal(resolveKey({ payload: { conversationId: 'c-3' } }, 'key', get), 'c-3');
    assert.equal(resolveKey({ payload: { eventBody: { id: 'c-4' } } }, 'payload.eventBody.id', get), 'c-4');
    assert.equal(resolveKey({ key: 42 }, 'key', get), '42');
    assert.equal(resolveKey({ payload: {} }, 'key', get), null);
  });

  it('keeps falsy payloads, JSON-encodes objects, passes Buffers and strings, refuses a missing payload', () => {
    assert.equal(encodeValue(0), '0');
    assert.equal(encodeValue(false), 'false');
    assert.equal(encodeValue(''), '');
    assert.equal(encodeValue(null), null);
    assert.equal(encodeValue({ a: [1] }), '{"a":[1]}');
    const b = Buffer.from([0, 1]);
    assert.equal(encodeValue(b), b);
    assert.throws(() => encodeValue(undefined), RecordMappingError);
    const circular: any = {}; circular.self = circular;
    assert.throws(() => encodeValue(circular), /cannot be serialized/);
  });

  it('maps headers and refuses non-object headers', () => {
    assert.deepEqual(encodeHeaders({ a: 'x', n: 1, t: true, o: { k: 1 }, skip: null }), { a: 'x', n: '1', t: 'true', o: '{"k":1}' });
    assert.equal(encodeHeaders(undefined), undefined);
    assert.throws(() => encodeHeaders('x'), RecordMappingError);
  });

  it('uses msg.topic only when configured to', () => {
    assert.equal(toRecord({ topic: 'v2:conversations', payload: 1 }, opts, get).topic, 'fixed');
    assert.equal(toRecord({ topic: 'other', payload: 1 }, { ...opts, topicFromMsg: true }, get).topic, 'other');
    assert.equal(toRecord({ topic: '', payload: 1 }, { ...opts, topicFromMsg: true }, get).topic, 'fixed');
    assert.throws(() => toRecord({ payload: 1 }, { ...opts, topic: '' }, get), /no Kafka topic/);
  });
});

describe('kafka settings', () => {
  it('parses brokers and validates what a user can get wrong', () => {
    assert.deepEqual(parseBrokers(' a:1, b:2\nc:3 '), ['a:1', 'b:2', 'c:3']);
    assert.match(validateSettings(settingsFromNode({ brokers: '' }))!, /no brokers/);
    assert.match(validateSettings(settingsFromNode({ brokers: 'localhost' }))!, /not host:port/);
    assert.match(validateSettings(settingsFromNode({ brokers: 'h:1', saslMechanism: 'plain' }, { username: 'u' }))!, /password/);
    assert.equal(validateSettings(settingsFromNode({ brokers: 'h:9092', saslMechanism: 'scram-sha-512' }, { username: 'u', password: 'p' })), null);
  });

  it('maps TLS and SASL settings to the client config', () => {
    const s = settingsFromNode({ brokers: 'h:9093', usetls: true, rejectUnauthorized: false, saslMechanism: 'scram-sha-256', connectionTimeout: '1500' },
      { username: 'u', password: 'p', ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM' });
    const c = toKafkaJsConfig(s);
    assert.deepEqual(c.ssl, { rejectUnauthorized: false, ca: ['CA-PEM'], cert: 'CERT-PEM', key: 'KEY-PEM' });
    assert.deepEqual(c.sasl, { mechanism: 'scram-sha-256', username: 'u', password: 'p' });
    assert.equal(c.connectionTimeout, 1500);
    assert.equal(toKafkaJsConfig(settingsFromNode({ brokers: 'h:1' })).ssl, undefined);
    assert.match(validateSettings(settingsFromNode({ brokers: 'h:1', usetls: true }, { cert: 'C' }))!, /certificate and key/);
  });

  it('never shows a secret in the settings description', () => {
    const s = settingsFromNode({ brokers: 'h:9092', usetls: true, saslMechanism: 'plain' }, { username: 'u', password: 'pw-SECRET', key: 'KEY-SECRET', passphrase: 'PP-SECRET' });
    const text = JSON.stringify(describeSettings(s));
    assert.ok(!/SECRET/.test(text), text);
    assert.equal(s.tls?.rejectUnauthorized, true);
  });

  it('classifies client errors', () => {
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError', retriable: false });
    assert.deepEqual(classifyError(sasl), { retriable: false, connectionLost: false, producerFenced: false, configError: true });
    const conn = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
    const wrapped = Object.assign(new Error('Connection error'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: conn });
    assert.equal(classifyError(wrapped).retriable, true);
    assert.equal(classifyError(wrapped).connectionLost, true);
    const fenced = Object.assign(new Error('unknown producer'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_PRODUCER_ID', retriable: false });
    assert.equal(classifyError(fenced).producerFenced, true);
    assert.equal(KafkaSendError.from(fenced).forRecord('t', 'k').key, 'k');
  });
});

describe('kafka compression codecs', () => {
  it('writes LZ4 frames with independent blocks that decompress to the input', () => {
    const lz4 = require('lz4js');
    const xxh = require('lz4js/xxh32');
    for (const input of [Buffer.alloc(0), Buffer.from('a'), Buffer.from('hello '.repeat(10_000)), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))]) {
      const frame = lz4Frame(lz4, xxh.hash, input);
      assert.equal(frame.readUInt32LE(0), 0x184d2204);
      assert.equal(frame[4], 0x60, 'version 1 + block independence');
      assert.deepEqual(Buffer.from(lz4.decompress(frame)), input);
    }
  });

  it('knows none, gzip, lz4 and refuses others', () => {
    assert.equal(compressionType('none'), 0);
    assert.equal(compressionType('gzip'), 1);
    assert.equal(compressionType('lz4'), 3);
    assert.throws(() => compressionType('zstd'), /unknown compression/);
  });
});
