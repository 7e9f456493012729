// Guide 003's interaction event (schemas/ingest-event.schema.json): validation with ajv (draft-07,
// RFC 3339 date-time, which requires a timezone), compiled once when this module loads, and the
// event's identity for the dedup window. The simulator validates with the same schema.
import Ajv, { type ErrorObject } from 'ajv';
import { addDateTimeFormat } from '../../events/date-time';
import schema from '../../../schemas/ingest-event.schema.json';

export { schema as ingestEventSchema };

export type ActionType = 'ANSWER' | 'TRANSFER' | 'DISCONNECT' | 'QUEUE' | 'REQUEUE';

export interface IngestEvent {
  eventType: string;
  eventTime: string;
  interactionId: string;
  routingMetadata: { queueId: string; skill: string; actionType: ActionType };
  attributes?: Record<string, unknown>;
  schemaVersion: 1 | 2 | 3;
}

/** Where and why an event fails the schema. */
export interface EventProblem {
  /** JSON pointer of the first failing field, e.g. /routingMetadata/actionType */
  path: string;
  /** Every failure, e.g. "/eventTime must match format \"date-time\"; /schemaVersion must be <= 3" */
  message: string;
}

const ajv = new Ajv({ allErrors: true, strict: true });
addDateTimeFormat(ajv);
const check = ajv.compile<IngestEvent>(schema);

function pointer(e: ErrorObject): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === 'required') return `${e.instancePath}/${p.missingProperty}`;
  if (e.keyword === 'additionalProperties') return `${e.instancePath}/${p.additionalProperty}`;
  return e.instancePath;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'required') return `${pointer(e)} is required`;
  if (e.keyword === 'additionalProperties') return `${pointer(e)} is not a known field`;
  if (e.keyword === 'enum') return `${pointer(e)} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'format' && e.instancePath === '/eventTime') return '/eventTime must be an ISO 8601 date-time with a timezone (Z or +hh:mm)';
  return `${pointer(e) || '/'} ${e.message}`;
}

/** undefined when the event is valid; else where and why it fails. */
export function validateIngestEvent(event: unknown): EventProblem | undefined {
  if (check(event)) return undefined;
  const errors = check.errors ?? [];
  return { path: errors.length ? pointer(errors[0]) : '', message: errors.map(describe).join('; ') || 'invalid' };
}

/**
 * The event's identity: interactionId, eventType, routingMetadata.actionType and the instant of eventTime.
 * Guide 003 keys its window on interactionId alone, which would drop every event of an interaction
 * after the first (answer, transfer, disconnect all share it); the instant is canonical so that a
 * replay written as "…T10:00:00Z" and "…T12:00:00.000+02:00" is the same event.
 */
export function ingestEventKey(e: IngestEvent): string {
  return `${e.interactionId}|${e.eventType}|${e.routingMetadata.actionType}|${canonicalInstant(e.eventTime)}`;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|([+-])(\d{2}):?(\d{2}))$/;

/** An RFC 3339 date-time as UTC "YYYY-MM-DDTHH:MM:SS.fffZ", keeping digits below the millisecond. */
export function canonicalInstant(value: string): string {
  const m = DATE_TIME.exec(value);
  if (!m) return value;
  const [, y, mo, d, h, mi, s, frac = '', zone, sign, oh, om] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, Math.min(+s, 59), +(frac + '000').slice(0, 3));
  if (zone !== 'Z' && zone !== 'z') ms -= (sign === '-' ? -1 : 1) * (+oh * 60 + +om) * 60_000;
  if (!Number.isFinite(ms)) return value;
  const sub = frac.slice(3).replace(/0+$/, '');
  return new Date(ms).toISOString().replace('Z', `${sub}Z`);
}
