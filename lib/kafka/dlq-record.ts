// The dead-letter record: the original event as value, the original key, and context headers in
// the spirit of Kafka Connect's errors.deadletterqueue.context.headers, so that an operator sees
// why it failed and dlq-replay can put the event back exactly as it was.
import { randomUUID } from 'node:crypto';
import type { GenesysMeta } from '../events/message';
import type { OutgoingRecord, RecordHeaders } from './record-sink';
import type { FailureClassification, FailureReason } from './retry-classification';
import { FAILURE_REASONS } from './retry-classification';
import { scrubAndTruncate } from './dlq-scrub';

export const DEFAULT_DLQ_TOPIC = 'genesys.dlq';

/** Header names (all prefixed, so they never clash with the event's own headers). */
export const H = {
  id: 'dlq.id',
  reason: 'dlq.reason',
  retryable: 'dlq.retryable',
  message: 'dlq.error.message',
  errorClass: 'dlq.error.class',
  status: 'dlq.error.status',
  code: 'dlq.error.code',
  path: 'dlq.error.path',
  stack: 'dlq.error.stacktrace',
  sourceId: 'dlq.source.node.id',
  sourceType: 'dlq.source.node.type',
  sourceName: 'dlq.source.node.name',
  dlqNode: 'dlq.node.id',
  attempts: 'dlq.attempts',
  firstFailure: 'dlq.first.failure',
  lastFailure: 'dlq.last.failure',
  originalTopic: 'dlq.original.topic',
  valueFormat: 'dlq.value.format',
  payloadProblem: 'dlq.payload.problem',
  genesysSource: 'dlq.genesys.source',
  genesysReceivedAt: 'dlq.genesys.received.at',
  genesysTopicName: 'dlq.genesys.topic.name',
  genesysChannelId: 'dlq.genesys.channel.id',
  genesysBackfilled: 'dlq.genesys.backfilled',
  genesysSynthetic: 'dlq.genesys.synthetic',
} as const;

/** How msg.payload was stored, so replay restores the same JS type. */
export type ValueFormat = 'json' | 'string' | 'bytes' | 'missing';

/** Per-message failure history the dlq node keeps on msg.dlq across retries. */
export interface FailureHistory {
  attempts: number;
  firstFailure: string;
  lastFailure: string;
}

export interface DeadLetterInput {
  payload: unknown;
  key?: unknown;
  topic?: unknown;
  headers?: unknown;
  genesys?: Partial<GenesysMeta>;
}

export interface DeadLetterOptions {
  topic: string;
  dlqNodeId?: string;
  includeStack?: boolean;
  now?: Date;
}

export interface EncodedValue {
  value: Buffer | null;
  format: ValueFormat;
  /** Set when the payload could not be stored as it was. */
  problem?: string;
}

/** Serializes msg.payload for the DLQ: Buffers as raw bytes, strings as UTF-8, the rest as JSON. */
export function encodePayload(payload: unknown): EncodedValue {
  if (payload === undefined) return { value: null, format: 'missing', problem: 'msg.payload is missing' };
  if (Buffer.isBuffer(payload)) return { value: payload, format: 'bytes' };
  if (payload instanceof Uint8Array) return { value: Buffer.from(payload), format: 'bytes' };
  if (typeof payload === 'string') return { value: Buffer.from(payload, 'utf8'), format: 'string' };
  try {
    const json = JSON.stringify(payload);
    if (json === undefined) {
      return { value: Buffer.from(JSON.stringify(String(payload))), format: 'json', problem: `msg.payload of type ${typeof payload} is not serializable; stored as text` };
    }
    return { value: Buffer.from(json, 'utf8'), format: 'json' };
  } catch (err) {
    // Circular structures and BigInts: keep everything that can be kept, mark what could not.
    const json = JSON.stringify(toJsonSafe(payload, new Set(), 0));
    return { value: Buffer.from(json, 'utf8'), format: 'json', problem: `msg.payload is not serializable (${(err as Error).message}); stored with [Circular]/[BigInt] markers` };
  }
}

function toJsonSafe(v: unknown, ancestors: Set<object>, depth: number): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (v === null || typeof v !== 'object') return v;
  if (ancestors.has(v)) return '[Circular]';
  if (depth > 64) return '[Too deep]';
  if (typeof (v as any).toJSON === 'function' && !Buffer.isBuffer(v)) {
    try { return toJsonSafe((v as any).toJSON(), ancestors, depth + 1); } catch { return '[Unserializable]'; }
  }
  ancestors.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => toJsonSafe(x, ancestors, depth + 1) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const s = toJsonSafe(x, ancestors, depth + 1);
      if (s !== undefined) out[k] = s;
    }
    return out;
  } finally {
    ancestors.delete(v);
  }
}

/** The Kafka key of the original event: msg.key, else the conversation id in the payload. */
export function originalKey(input: DeadLetterInput): string | Buffer | null {
  const k = input.key;
  if (Buffer.isBuffer(k)) return k;
  if (typeof k === 'string' && k !== '') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  const p = input.payload as Record<string, unknown> | undefined;
  if (p && typeof p === 'object' && !Buffer.isBuffer(p)) {
    for (const f of ['conversation_id', 'conversationId']) {
      if (typeof p[f] === 'string' && p[f] !== '') return p[f] as string;
    }
  }
  return null;
}

/** Builds the dead-letter record for one failed message. Never throws on odd input. */
export function buildDeadLetter(input: DeadLetterInput, failure: FailureClassification & { stack?: string },
  history: FailureHistory, opts: DeadLetterOptions): { record: OutgoingRecord; id: string; reason: FailureReason; problem?: string } {
  const encoded = encodePayload(input.payload);
  const id = randomUUID();
  // An event that cannot be stored as it was is a poison event, whatever failed first.
  const reason: FailureReason = encoded.problem ? 'poison' : failure.reason;
  const retryable = encoded.problem ? false : failure.retryable;
  const headers: RecordHeaders = {};
  // The event's own headers first, so ours (prefixed dlq.) can never be overwritten by them.
  if (input.headers && typeof input.headers === 'object' && !Array.isArray(input.headers)) {
    for (const [k, v] of Object.entries(input.headers as Record<string, unknown>)) {
      if (k.startsWith('dlq.') || v === undefined || v === null) continue;
      headers[k] = Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : safeJson(v);
    }
  }
  const set = (name: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    headers[name] = String(value);
  };
  set(H.id, id);
  set(H.reason, reason);
  set(H.retryable, retryable);
  set(H.message, scrubAndTruncate(failure.message || '(no message)', 1000));
  set(H.errorClass, failure.errorClass);
  set(H.status, failure.status);
  set(H.code, failure.code);
  set(H.path, failure.path);
  if (opts.includeStack !== false && failure.stack) set(H.stack, scrubAndTruncate(failure.stack, 2000));
  set(H.sourceId, failure.sourceNode?.id);
  set(H.sourceType, failure.sourceNode?.type);
  set(H.sourceName, failure.sourceNode?.name);
  set(H.dlqNode, opts.dlqNodeId);
  set(H.attempts, history.attempts);
  set(H.firstFailure, history.firstFailure);
  set(H.lastFailure, history.lastFailure);
  if (typeof input.topic === 'string') set(H.originalTopic, input.topic);
  set(H.valueFormat, encoded.format);
  set(H.payloadProblem, encoded.problem);
  const g = input.genesys;
  if (g && typeof g === 'object') {
    set(H.genesysSource, g.source);
    set(H.genesysReceivedAt, g.receivedAt);
    set(H.genesysTopicName, g.topicName);
    set(H.genesysChannelId, g.channelId);
    if (g.backfilled) set(H.genesysBackfilled, 'true');
    if (g.synthetic) set(H.genesysSynthetic, 'true');
  }
  const record: OutgoingRecord = {
    topic: opts.topic,
    key: originalKey(input),
    value: encoded.value,
    headers,
    timestamp: (opts.now ?? new Date()).getTime(),
  };
  return { record, id, reason, problem: encoded.problem };
}

function safeJson(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

// ── Reading a dead letter back (dlq-replay) ──────────────────────────────────────────────

/** A record as a consumer sees it (kafkajs KafkaMessage plus where it was read). */
export interface ConsumedRecord {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  topic?: string;
  partition?: number;
  offset?: string;
  timestamp?: string;
}

export interface DeadLetterContext {
  id?: string;
  reason: FailureReason;
  retryable: boolean;
  message?: string;
  errorClass?: string;
  status?: number;
  code?: string;
  path?: string;
  sourceNode?: { id?: string; type?: string; name?: string };
  attempts: number;
  firstFailure?: string;
  lastFailure?: string;
  originalTopic?: string;
  payloadProblem?: string;
}

export interface ParsedDeadLetter {
  key: string | null;
  payload: unknown;
  /** The event's own headers, without the dlq.* context. */
  headers: Record<string, string>;
  genesys?: GenesysMeta;
  context: DeadLetterContext;
  /** Where the dead letter itself was read (DLQ topic coordinates). */
  position: { topic?: string; partition?: number; offset?: string };
}

function headerText(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** Parses a dead letter; a record without our headers is returned as an untyped event ('unknown'). */
export function parseDeadLetter(rec: ConsumedRecord): ParsedDeadLetter {
  const raw = rec.headers ?? {};
  const get = (name: string): string | undefined => headerText(raw[name]);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('dlq.')) continue;
    const t = headerText(v);
    if (t !== undefined) headers[k] = t;
  }
  const format = (get(H.valueFormat) ?? 'json') as ValueFormat;
  const valueBuf = rec.value === null ? null : Buffer.isBuffer(rec.value) ? rec.value : Buffer.from(rec.value, 'utf8');
  let payload: unknown;
  if (valueBuf === null || format === 'missing') payload = undefined;
  else if (format === 'bytes') payload = valueBuf;
  else if (format === 'string') payload = valueBuf.toString('utf8');
  else {
    const text = valueBuf.toString('utf8');
    try { payload = JSON.parse(text); } catch { payload = text; }
  }
  const reasonText = get(H.reason);
  const reason = (FAILURE_REASONS as readonly string[]).includes(reasonText ?? '') ? reasonText as FailureReason : 'unknown';
  const status = Number(get(H.status));
  const source = get(H.genesysSource);
  const genesys = source ? {
    source: source as GenesysMeta['source'],
    receivedAt: get(H.genesysReceivedAt) ?? '',
    ...(get(H.genesysTopicName) ? { topicName: get(H.genesysTopicName) } : {}),
    ...(get(H.genesysChannelId) ? { channelId: get(H.genesysChannelId) } : {}),
    ...(get(H.genesysBackfilled) === 'true' ? { backfilled: true } : {}),
    ...(get(H.genesysSynthetic) === 'true' ? { synthetic: true } : {}),
  } : undefined;
  const sourceNode = get(H.sourceId) || get(H.sourceType)
    ? { id: get(H.sourceId), type: get(H.sourceType), name: get(H.sourceName) } : undefined;
  return {
    key: rec.key === null ? null : Buffer.isBuffer(rec.key) ? rec.key.toString('utf8') : String(rec.key),
    payload,
    headers,
    genesys,
    context: {
      id: get(H.id),
      reason,
      retryable: get(H.retryable) === 'true',
      message: get(H.message),
      errorClass: get(H.errorClass),
      status: Number.isFinite(status) && status > 0 ? status : undefined,
      code: get(H.code),
      path: get(H.path),
      sourceNode,
      attempts: Number(get(H.attempts)) || 0,
      firstFailure: get(H.firstFailure),
      lastFailure: get(H.lastFailure),
      originalTopic: get(H.originalTopic),
      payloadProblem: get(H.payloadProblem),
    },
    position: { topic: rec.topic, partition: rec.partition, offset: rec.offset },
  };
}
