// Shared shapes of the ingest sink: one queued event, its outcome, the error it fails with and the
// audit record written per batch.
import type { IngestEvent } from './schema';

export const INGEST_PATH = '/api/v2/events/ingest';

/** Bytes of `{"events":[` + `]}` around the serialized events of a request body. */
export const ENVELOPE_BYTES = Buffer.byteLength('{"events":[]}');

/** Size of a request body holding events of these serialized sizes (commas between them). */
export function bodyBytes(eventBytes: number, count: number): number {
  return ENVELOPE_BYTES + eventBytes + Math.max(0, count - 1);
}

export type IngestErrorKind =
  | 'too-large'      // 413 for a single event, or larger than the request limit before sending
  | 'rejected'       // 400 and other 4xx: the response body says why
  | 'unauthorized'   // 401 even with a fresh token (missing eventbridge:ingest scope?)
  | 'rate-limited'   // 429 more often than the retry budget allows
  | 'unavailable'    // 5xx, timeouts, connection errors after the last attempt
  | 'closed'         // the node closed before Genesys accepted the event
  | 'queue-full';    // more events waiting than the queue allows

export class IngestError extends Error {
  constructor(
    message: string,
    readonly kind: IngestErrorKind,
    readonly status = 0,
    readonly body?: unknown,
    readonly batchId?: string,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

export type EventOutcome =
  | { ok: true; batchId: string; duplicate?: false }
  | { ok: true; duplicate: true; batchId?: string }
  | { ok: false; error: IngestError };

/** An event waiting for a batch. `settle` is called exactly once. */
export interface QueuedEvent {
  event: IngestEvent;
  /** UTF-8 length of JSON.stringify(event). */
  bytes: number;
  enqueuedAt: number;
  settle(outcome: EventOutcome): void;
}

export type BatchOutcome = 'accepted' | 'split' | 'partial' | 'failed' | 'aborted';

/** One line of the audit log: the final outcome of one batch (never a token). */
export interface AuditRecord {
  time: string;
  batchId: string;
  /** The batch this one was cut from (413 split, or the valid rest of a 400). */
  parentBatchId?: string;
  events: number;
  bytes: number;
  /** HTTP status of the last answer (0: no answer: connection error, timeout, aborted). */
  status: number;
  outcome: BatchOutcome;
  attempts: number;
  latencyMs: number;
  interactionIds: string[];
  error?: string;
}
