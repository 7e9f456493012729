// Which failures deserve another attempt, and under which reason tag a dead letter is filed.
// Guide 000: retry only 429, 500, 502, 503 and 504 (and transport failures); every other 4xx and
// every validation failure goes to the DLQ at once — retrying them only delays the events behind.
//
// The input can be an Error (kafkajs, GenesysApiError, fetch/undici, Node socket errors), the
// msg.error a Catch node builds ({message: "<Class>: <text>", source, code?, stack?, cause?} —
// status fields are lost there, so the text is parsed too), or normalize's error output
// ({reason, message, path}).
import { scrubAndTruncate } from './dlq-scrub';

export type FailureReason =
  | 'validation'   // payload does not match the schema / 400 / 422: fix the data or the mapping, then replay
  | 'auth'         // 401 / 403 / SASL or ACL refusal: fix credentials or permissions, then replay
  | 'rate-limit'   // 429: retried; dead-lettered only when the retries ran out
  | 'http-4xx'     // any other 4xx: the request itself is wrong
  | 'http-5xx'     // 5xx: 500/502/503/504 retried, others (501, 505) not
  | 'transport'    // connection refused/reset, timeouts, broker unreachable: retried
  | 'poison'       // the event breaks processing (no payload, not serializable, record rejected by the broker)
  | 'unknown';     // an error that says nothing we can classify (e.g. a plain throw in a function node)

export const FAILURE_REASONS: readonly FailureReason[] =
  ['validation', 'auth', 'rate-limit', 'http-4xx', 'http-5xx', 'transport', 'poison', 'unknown'];

export interface FailureClassification {
  reason: FailureReason;
  retryable: boolean;
  /** Error text, secrets scrubbed, bounded. */
  message: string;
  /** Error class (e.g. KafkaJSConnectionError, GenesysApiError), when known. */
  errorClass?: string;
  status?: number;
  code?: string;
  /** Server-requested wait (Retry-After) before the next attempt. */
  retryAfterMs?: number;
  /** Catch-node source of the error: the node that failed. */
  sourceNode?: { id?: string; type?: string; name?: string };
  /** JSON path of a validation failure (normalize). */
  path?: string;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

const TRANSPORT_CODES = new Set([
  'ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const TRANSPORT_CLASSES = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSLockTimeout', 'TimeoutError', 'AbortError',
  'FetchError', 'ConnectTimeoutError', 'SocketError', 'HeadersTimeoutError', 'BodyTimeoutError',
]);
const TRANSPORT_TEXT = /\b(socket hang up|ECONNRESET|ETIMEDOUT|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Connection (timeout|error|closed)|Request timed out|broker (is )?(not )?(unreachable|available)|Closed connection|Connection refused|fetch failed|timed out)\b/i;
// Kafka protocol errors about the record itself: resending the same bytes can never succeed.
const KAFKA_POISON_TYPES = new Set(['MESSAGE_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'RECORD_LIST_TOO_LARGE',
  'INVALID_TIMESTAMP', 'UNSUPPORTED_COMPRESSION_TYPE']);
const KAFKA_AUTH_TYPES = /AUTHORIZATION_FAILED|SASL_AUTHENTICATION_FAILED|ILLEGAL_SASL_STATE|UNSUPPORTED_SASL_MECHANISM/;
const KAFKA_AUTH_CLASSES = new Set(['KafkaJSSASLAuthenticationError']);
const VALIDATION_CLASSES = new Set(['ValidationError', 'AjvValidationError', 'SchemaValidationError']);
const POISON_CLASSES = new Set(['SyntaxError', 'TypeError', 'RangeError', 'ReferenceError', 'KafkaJSPartialMessageError']);

const MAX_MESSAGE = 1000;

/** Classifies a failure from an Error, a Catch msg.error, or a normalize error object. */
export function classifyFailure(error: unknown): FailureClassification {
  if (error === undefined || error === null || error === '') {
    return { reason: 'unknown', retryable: false, message: 'no error information on the message (msg.error is missing)' };
  }
  if (typeof error === 'string') return classifyText(error, {});
  if (typeof error !== 'object') return classifyText(String(error), {});
  const e = error as Record<string, any>;
  const base = describe(e);

  // normalize (and other nodes of this package) name the reason themselves.
  const declared = typeof e.reason === 'string' ? e.reason.toLowerCase() : undefined;
  if (declared && (FAILURE_REASONS as readonly string[]).includes(declared)) {
    const reason = declared as FailureReason;
    const retryable = base.status !== undefined ? RETRYABLE_STATUSES.has(base.status)
      : reason === 'transport' || reason === 'rate-limit';
    return { ...base, reason, retryable };
  }
  if (declared && /valid|schema/.test(declared)) return { ...base, reason: 'validation', retryable: false };

  const fromStatus = byStatus(base.status);
  if (fromStatus) return { ...base, ...fromStatus };

  // Kafka errors: the protocol type says more than the class; NumberOfRetriesExceeded wraps the cause.
  const kafka = classifyKafka(e);
  if (kafka) return { ...base, ...kafka };

  if (base.code && TRANSPORT_CODES.has(base.code)) return { ...base, reason: 'transport', retryable: true };
  if (base.errorClass && TRANSPORT_CLASSES.has(base.errorClass)) return { ...base, reason: 'transport', retryable: true };
  if (base.errorClass && VALIDATION_CLASSES.has(base.errorClass)) return { ...base, reason: 'validation', retryable: false };
  if (Array.isArray(e.errors) && e.errors.some((x: any) => x && typeof x.instancePath === 'string')) {
    return { ...base, reason: 'validation', retryable: false }; // ajv error list
  }
  if ((base.path !== undefined && !base.code) || e.source?.type === 'normalize') return { ...base, reason: 'validation', retryable: false };

  // The cause chain (Error.cause, Catch's msg.error.cause) often holds the socket error.
  if (e.cause && typeof e.cause === 'object' && e.cause !== e) {
    const inner = classifyFailure(e.cause);
    if (inner.reason !== 'unknown') return { ...base, reason: inner.reason, retryable: inner.retryable, status: base.status ?? inner.status, code: base.code ?? inner.code, retryAfterMs: base.retryAfterMs ?? inner.retryAfterMs };
  }
  return classifyText(base.message, base);
}

function describe(e: Record<string, any>): FailureClassification {
  const rawMessage = typeof e.message === 'string' ? e.message : safeString(e);
  // Catch nodes hand over "<Class>: <text>"; keep the class, drop it from the text.
  const m = /^((?:[A-Z][A-Za-z0-9]*)?(?:Error|Exception)): ([\s\S]*)$/.exec(rawMessage);
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : m?.[1] ?? (typeof e.name === 'string' ? e.name : undefined);
  const message = scrubAndTruncate(m && (!name || name === m[1]) ? m[2] : rawMessage, MAX_MESSAGE);
  const status = toStatus(e.status ?? e.statusCode ?? e.response?.status ?? e.response?.statusCode) ?? statusFromText(rawMessage);
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
  const src = e.source && typeof e.source === 'object' ? e.source : undefined;
  return {
    reason: 'unknown',
    retryable: false,
    message,
    errorClass: name,
    status,
    code,
    retryAfterMs: retryAfter(e, rawMessage),
    sourceNode: src ? { id: str(src.id), type: str(src.type), name: str(src.name) } : undefined,
    path: str(e.path ?? e.instancePath ?? e.dataPath),
  };
}

function byStatus(status: number | undefined): Pick<FailureClassification, 'reason' | 'retryable'> | undefined {
  if (status === undefined) return undefined;
  if (status === 429) return { reason: 'rate-limit', retryable: true };
  if (status === 401 || status === 403 || status === 407) return { reason: 'auth', retryable: false };
  if (status === 400 || status === 422) return { reason: 'validation', retryable: false };
  if (status >= 400 && status < 500) return { reason: 'http-4xx', retryable: false };
  if (status >= 500 && status < 600) return { reason: 'http-5xx', retryable: RETRYABLE_STATUSES.has(status) };
  return undefined;
}

function classifyKafka(e: Record<string, any>): Pick<FailureClassification, 'reason' | 'retryable'> | undefined {
  const type = typeof e.type === 'string' ? e.type : undefined;
  if (type && KAFKA_POISON_TYPES.has(type)) return { reason: 'poison', retryable: false };
  if (type && KAFKA_AUTH_TYPES.test(type)) return { reason: 'auth', retryable: false };
  if (KAFKA_AUTH_CLASSES.has(e.name)) return { reason: 'auth', retryable: false };
  const isKafka = typeof e.name === 'string' && /^Kafka/.test(e.name);
  if (!isKafka) return undefined;
  // Retries ran out inside the client: what matters is why they were needed.
  if (e.cause && typeof e.cause === 'object' && e.cause !== e) {
    const inner = classifyFailure(e.cause);
    if (inner.reason !== 'unknown') return { reason: inner.reason, retryable: inner.retryable };
  }
  if (e.name === 'KafkaJSPartialMessageError') return { reason: 'poison', retryable: false };
  if (e.configError === true) return { reason: 'auth', retryable: false };
  if (e.retriable === true || e.connectionLost === true || TRANSPORT_CLASSES.has(e.name)) return { reason: 'transport', retryable: true };
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return { reason: 'transport', retryable: true };
  return undefined;
}

function classifyText(text: string, base: Partial<FailureClassification>): FailureClassification {
  const message = base.message ?? scrubAndTruncate(text, MAX_MESSAGE);
  const out = { ...base, message } as FailureClassification;
  const status = base.status ?? statusFromText(text);
  const fromStatus = byStatus(status);
  if (fromStatus) return { ...out, status, ...fromStatus };
  const kafkaType = /\b([A-Z]+(?:_[A-Z]+)+)\b/.exec(text)?.[1];
  if (kafkaType && KAFKA_POISON_TYPES.has(kafkaType)) return { ...out, reason: 'poison', retryable: false };
  if (kafkaType && KAFKA_AUTH_TYPES.test(kafkaType)) return { ...out, reason: 'auth', retryable: false };
  if (/\b(SASL|authentication failed|unauthori[sz]ed|forbidden|invalid_client)\b/i.test(text)) return { ...out, reason: 'auth', retryable: false };
  if (TRANSPORT_TEXT.test(text) || (base.errorClass && TRANSPORT_CLASSES.has(base.errorClass))) return { ...out, reason: 'transport', retryable: true };
  if (/\b(validation|schema|must have required property|must be)\b/i.test(text) || (base.errorClass && VALIDATION_CLASSES.has(base.errorClass))) {
    return { ...out, reason: 'validation', retryable: false };
  }
  if (base.errorClass && POISON_CLASSES.has(base.errorClass)) return { ...out, reason: 'poison', retryable: false };
  if (/\b(circular structure|BigInt|Unexpected token|not valid JSON)\b/i.test(text)) return { ...out, reason: 'poison', retryable: false };
  return { ...out, reason: 'unknown', retryable: false };
}

function statusFromText(text: string): number | undefined {
  const m = /\bHTTP(?:\/\d(?:\.\d)?)?\s*(?:status\s*)?(\d{3})\b/i.exec(text)
    ?? /\bstatus(?:\s*code)?\s*[:=]?\s*(\d{3})\b/i.exec(text)
    ?? /\b(\d{3})\s+(?:Too Many Requests|Service Unavailable|Bad Gateway|Gateway Time-?out|Internal Server Error|Bad Request|Unauthorized|Forbidden|Not Found|Unprocessable Entity|Conflict|Payload Too Large)\b/i.exec(text);
  return m ? toStatus(m[1]) : undefined;
}

function retryAfter(e: Record<string, any>, text: string): number | undefined {
  if (typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0) return e.retryAfterMs;
  const header = e.headers?.['retry-after'] ?? e.response?.headers?.['retry-after'];
  const seconds = Number(header);
  if (header !== undefined && Number.isFinite(seconds)) return seconds * 1000;
  const m = /Retry the request in \[?(\d+)\]? seconds/i.exec(text); // Genesys 429 body text
  return m ? Number(m[1]) * 1000 : undefined;
}

function toStatus(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function safeString(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/** Backoff before retry `attempt` (1-based): exponential with ±20 % jitter, capped; Retry-After wins when larger. */
export function retryDelayMs(attempt: number, opts: { baseMs: number; maxMs: number; retryAfterMs?: number }): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (0.8 + Math.random() * 0.4);
  return Math.round(Math.max(jittered, Math.min(opts.retryAfterMs ?? 0, opts.maxMs)));
}
