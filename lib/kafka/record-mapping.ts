// How kafka-out turns a Node-RED message into a Kafka record: topic, key, value, headers.
// Pure functions; the property lookup is passed in (Node-RED's RED.util.getMessageProperty).
import type { OutgoingRecord, RecordHeaders } from './record-sink';

export interface RecordMappingOptions {
  /** Fixed topic; msg.topic overrides it only when topicFromMsg is set. */
  topic: string;
  topicFromMsg: boolean;
  /**
   * Message property holding the key (default "key": every source sets msg.key to the
   * conversation id). When it is empty, the conversation id in the payload is used
   * (payload.conversation_id of normalized events, payload.conversationId of raw ones).
   */
  keyProperty: string;
  headersFromMsg: boolean;
}

export const DEFAULT_KEY_PROPERTY = 'key';
const KEY_FALLBACKS = ['payload.conversation_id', 'payload.conversationId'];

export type GetProperty = (msg: object, path: string) => unknown;

/** A message that cannot become a record: the node answers it with done(err). */
export class RecordMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordMappingError';
  }
}

function safeGet(get: GetProperty, msg: object, path: string): unknown {
  try { return get(msg, path); } catch { return undefined; }
}

export function resolveTopic(msg: { topic?: unknown }, opts: Pick<RecordMappingOptions, 'topic' | 'topicFromMsg'>): string {
  if (opts.topicFromMsg && typeof msg.topic === 'string' && msg.topic.trim()) return msg.topic.trim();
  if (opts.topic) return opts.topic;
  throw new RecordMappingError(opts.topicFromMsg ? 'no Kafka topic: msg.topic is empty and no topic is configured' : 'no Kafka topic configured');
}

export function resolveKey(msg: object, keyProperty: string, get: GetProperty): string | Buffer | null {
  for (const path of [keyProperty || DEFAULT_KEY_PROPERTY, ...KEY_FALLBACKS]) {
    const v = safeGet(get, msg, path);
    if (v === undefined || v === null || v === '') continue;
    if (Buffer.isBuffer(v) || typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    return JSON.stringify(v);
  }
  return null;
}

/** Objects become JSON; Buffers and strings go as they are; 0, false and "" are values too; null is a tombstone. */
export function encodeValue(payload: unknown): string | Buffer | null {
  if (payload === undefined) throw new RecordMappingError('msg.payload is missing');
  if (payload === null) return null;
  if (Buffer.isBuffer(payload) || typeof payload === 'string') return payload;
  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'bigint') return String(payload);
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  try {
    return JSON.stringify(payload);
  } catch (err) {
    throw new RecordMappingError(`msg.payload cannot be serialized to JSON: ${(err as Error).message}`);
  }
}

/** msg.headers → Kafka headers: strings and Buffers as they are, numbers/booleans as text, others as JSON. */
export function encodeHeaders(headers: unknown): RecordHeaders | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (typeof headers !== 'object' || Array.isArray(headers) || Buffer.isBuffer(headers)) {
    throw new RecordMappingError('msg.headers must be an object of header names to strings or Buffers');
  }
  const out: RecordHeaders = {};
  for (const [name, v] of Object.entries(headers as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' || Buffer.isBuffer(v)) out[name] = v;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[name] = String(v);
    else out[name] = JSON.stringify(v);
  }
  return Object.keys(out).length ? out : undefined;
}

export function toRecord(msg: { topic?: unknown; payload?: unknown; headers?: unknown }, opts: RecordMappingOptions, get: GetProperty): OutgoingRecord {
  return {
    topic: resolveTopic(msg, opts),
    key: resolveKey(msg, opts.keyProperty, get),
    value: encodeValue(msg.payload),
    headers: opts.headersFromMsg ? encodeHeaders(msg.headers) : undefined,
  };
}
