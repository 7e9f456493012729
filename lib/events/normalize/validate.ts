// Validation of normalized events against the shipped schema (schemas/interaction.schema.json):
// ajv, draft-07, the RFC 3339 date-time format (lib/events/date-time.ts), compiled once when this module loads. The schema keeps
// additionalProperties: true (guide 000's trap): a field Genesys adds tomorrow never rejects an event.
import Ajv, { type ErrorObject } from 'ajv';
import { addDateTimeFormat } from '../date-time';
import schema from '../../../schemas/interaction.schema.json';
import type { NormalizedInteraction } from './types';

export { schema as interactionSchema };

const ajv = new Ajv({ allErrors: true, strict: true });
addDateTimeFormat(ajv);
const check = ajv.compile<NormalizedInteraction>(schema);

export interface SchemaProblem {
  /** JSON pointer of the first failing field, e.g. /timestamp */
  path: string;
  /** Every failure, e.g. "/timestamp is required; /wait_time_ms must be integer,null" */
  message: string;
}

function pointer(e: ErrorObject): string {
  return e.keyword === 'required' ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath;
}

/** undefined when valid; else where and why it fails. */
export function validateInteraction(event: unknown): SchemaProblem | undefined {
  if (check(event)) return undefined;
  // partition_path is derived from timestamp and interaction_type: name the root cause first.
  const errors = [...(check.errors ?? [])].sort((a, b) => Number(pointer(a) === '/partition_path') - Number(pointer(b) === '/partition_path'));
  const message = errors
    .map((e) => (e.keyword === 'required' ? `${pointer(e)} is required` : `${pointer(e) || '/'} ${e.message}`))
    .join('; ');
  return { path: errors.length ? pointer(errors[0]) : '', message: message || 'invalid' };
}
