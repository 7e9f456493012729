// Webhook request bodies: bounded reading, content type, JSON, and which push path sent each event.
// Accepted envelopes (one event, or an array of them for batched delivery):
//   push         guide 000: {data: RealtimeInteraction, metadata: {eventId, sequence, ...}}
//   eventbridge  EventBridge event forwarded by an API destination (or a Lambda):
//                {"detail-type", source, detail: {topicName, version, eventBody}}
//   notification a notification envelope {topicName, eventBody}, e.g. what a Process Automation
//                workflow's Web Services Data Action posts with the trigger's event
//   conversation a bare conversation object {id, participants[]} (a data action posting the
//                conversation it looked up) or a flattened interaction {conversationId, ...}
//   unknown      any other JSON object: passed on untouched (forward compatible; normalize or the DLQ decide)
import type { IncomingMessage } from 'node:http';
import { jsonTextTooDeep, MAX_JSON_DEPTH, valueTooDeep } from './json-depth';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 408 | 413; reason: string };

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** A body must arrive completely within this time after its headers (slow senders hold memory and a socket). */
export const DEFAULT_BODY_TIMEOUT_MS = 15_000;

/** null when the request's content type and encoding are acceptable, else a short reason (415). */
export function contentTypeProblem(req: IncomingMessage): string | null {
  const ct = req.headers['content-type'];
  if (!ct) return 'content-type application/json required';
  const semi = ct.indexOf(';');
  const type = (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    return 'content-type application/json required';
  }
  if (semi !== -1) {
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(ct.slice(semi));
    if (charset && !/^utf-?8$/i.test(charset[1])) return 'charset utf-8 required';
  }
  const enc = req.headers['content-encoding'];
  if (enc && enc.toLowerCase() !== 'identity') return 'content-encoding not supported';
  return null;
}

/**
 * Reads the request body up to `limit` bytes. A declared Content-Length over the limit is refused
 * before any byte is read; a chunked body stops being buffered at the limit, so a 10 MB body costs
 * at most `limit` bytes of memory. The caller answers 413 with Connection: close. A body still
 * incomplete after `timeoutMs` (a slow sender trickling bytes) ends as 408, also with Connection: close.
 */
export function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) return Promise.resolve({ ok: false, status: 400, reason: 'bad content-length' });
    if (n > limit) return Promise.resolve({ ok: false, status: 413, reason: `body over ${limit} bytes` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = timeoutMs > 0 ? setTimeout(() => {
      chunks.length = 0;
      req.pause();
      finish({ ok: false, status: 408, reason: `body not received within ${timeoutMs / 1000} s` });
    }, timeoutMs) : null;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        // Stop reading: the socket is closed after the 413, the rest is never buffered.
        req.pause();
        finish({ ok: false, status: 413, reason: `body over ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
    const onError = () => finish({ ok: false, status: 400, reason: 'request aborted' });
    const onAborted = onError;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/**
 * A body that a parser upstream already read (Express body-parser sets req._body and req.body; the
 * editor's app runs one for every request when it shares httpNode's root). null: the stream is ours.
 */
export function consumedBody(req: IncomingMessage): { value: unknown } | { raw: Buffer } | null {
  const r = req as IncomingMessage & { _body?: boolean; body?: unknown };
  if (!r._body && !req.readableEnded) return null;
  const b = r.body;
  if (Buffer.isBuffer(b)) return { raw: b };
  if (typeof b === 'string') return { raw: Buffer.from(b, 'utf8') };
  if (b !== null && typeof b === 'object') return { value: b };
  return { raw: Buffer.alloc(0) };
}

export type ParseResult = { ok: true; events: Record<string, any>[]; batched: boolean } | { ok: false; reason: string };

// fatal: invalid UTF-8 is refused instead of silently becoming U+FFFD in the event (a BOM is skipped).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one event or an array of events; every event must be a JSON object. */
export function parseEvents(body: Buffer, maxEvents = 10000, maxDepth = MAX_JSON_DEPTH): ParseResult {
  if (body.length === 0) return { ok: false, reason: 'empty body' };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  if (jsonTextTooDeep(text, maxDepth)) return { ok: false, reason: `body nests deeper than ${maxDepth} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  return eventsOf(value, maxEvents);
}

/** One event or an array of events from an already parsed body (pass maxDepth to check its nesting too). */
export function eventsOf(value: unknown, maxEvents = 10000, maxDepth?: number): ParseResult {
  if (maxDepth !== undefined && valueTooDeep(value, maxDepth)) return { ok: false, reason: `body nests deeper than ${maxDepth} levels` };
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, reason: 'empty array' };
    if (value.length > maxEvents) return { ok: false, reason: `more than ${maxEvents} events` };
    for (let i = 0; i < value.length; i++) {
      if (!isObject(value[i])) return { ok: false, reason: `event ${i} is not a JSON object` };
    }
    return { ok: true, events: value as Record<string, any>[], batched: true };
  }
  if (!isObject(value)) return { ok: false, reason: 'body must be a JSON object or an array of objects' };
  return { ok: true, events: [value], batched: false };
}

export type EnvelopeKind = 'push' | 'eventbridge' | 'notification' | 'conversation' | 'unknown';

export interface EventInfo {
  envelope: EnvelopeKind;
  /** The Kafka key: the conversation id, when the event names one. */
  conversationId?: string;
  /** Notification topic (EventBridge detail-type / topicName), or the push resource. */
  topicName?: string;
}

/** Recognises which push path an event came from and finds its conversation id. */
export function describeEvent(e: Record<string, any>): EventInfo {
  if (isObject(e.data) && isObject(e.metadata)) {
    return { envelope: 'push', conversationId: str(e.data.conversationId) ?? str(e.data.id), topicName: 'realtime:interaction' };
  }
  if (isObject(e.detail) && typeof e['detail-type'] === 'string') {
    const d = e.detail;
    const topicName = str(d.topicName) ?? e['detail-type'];
    return { envelope: 'eventbridge', topicName, conversationId: bodyConversationId(d.eventBody) ?? topicConversationId(topicName) };
  }
  if (typeof e.topicName === 'string' && 'eventBody' in e) {
    return { envelope: 'notification', topicName: e.topicName, conversationId: bodyConversationId(e.eventBody) ?? topicConversationId(e.topicName) };
  }
  if (typeof e.conversationId === 'string' || (typeof e.id === 'string' && Array.isArray(e.participants))) {
    return { envelope: 'conversation', conversationId: str(e.conversationId) ?? str(e.id) };
  }
  return { envelope: 'unknown' };
}

function bodyConversationId(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  return str(body.conversationId) ?? (Array.isArray(body.participants) ? str(body.id) : undefined);
}

// v2.conversations.{id}..., v2.detail.events.conversation.{id}.{event}
const TOPIC_CONVERSATION = /(?:^|\.)conversations?\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\.|$)/i;

function topicConversationId(topic: string | undefined): string | undefined {
  return topic ? TOPIC_CONVERSATION.exec(topic)?.[1] : undefined;
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
