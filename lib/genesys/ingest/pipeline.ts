// One message's way into Genesys: parse msg.payload (one event or an array), validate every event
// (all or nothing, guide 003's atomic parsing: a message with one bad event sends none), drop
// repeats inside the dedup window, queue the rest, and report per event once Genesys answered.
import { ingestEventKey, validateIngestEvent, type IngestEvent } from './schema';
import type { IngestDedup } from './dedup';
import type { IngestSender } from './sender';
import { IngestError, type EventOutcome } from './types';

export interface PreparedEvents {
  events: IngestEvent[];
  /** UTF-8 length of each event's JSON. */
  bytes: number[];
}

export interface EventProblemAt {
  /** Index in the array (0 for a single event). */
  index: number;
  /** JSON pointer inside the event ('' when the payload itself is wrong). */
  path: string;
  message: string;
}

export class InvalidPayloadError extends Error {
  constructor(message: string, readonly problems: EventProblemAt[]) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

/**
 * msg.payload → validated copies of its events. Strings and Buffers holding JSON (as a Kafka
 * consumer delivers them) are parsed. The copies are what gets sent, so a flow that changes the
 * message afterwards cannot change a queued event. Throws InvalidPayloadError.
 */
export function prepareEvents(payload: unknown): PreparedEvents {
  let value = payload;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw new InvalidPayloadError(`msg.payload is a string but not JSON: ${(err as Error).message}`, [{ index: 0, path: '', message: 'not JSON' }]);
    }
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new InvalidPayloadError('msg.payload is an empty array: no event to send', [{ index: 0, path: '', message: 'empty array' }]);
  const events: IngestEvent[] = [];
  const bytes: number[] = [];
  const problems: EventProblemAt[] = [];
  list.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push({ index, path: '', message: `must be an event object, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}` });
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(item);
    } catch (err) {
      problems.push({ index, path: '', message: `cannot be serialized as JSON: ${(err as Error).message}` });
      return;
    }
    const copy = JSON.parse(text) as unknown;
    const problem = validateIngestEvent(copy);
    if (problem) problems.push({ index, ...problem });
    else { events.push(copy as IngestEvent); bytes.push(Buffer.byteLength(text)); }
  });
  if (problems.length) {
    const first = problems[0];
    const where = Array.isArray(value) ? `event[${first.index}]` : 'event';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more invalid)` : '';
    throw new InvalidPayloadError(`invalid ingest event, nothing sent: ${where}: ${first.message}${more}`, problems);
  }
  return { events, bytes };
}

export interface SubmitResult {
  accepted: number;
  duplicates: number;
  batchIds: string[];
  failed: { index: number; interactionId: string; error: IngestError }[];
}

export class IngestPipeline {
  constructor(readonly sender: IngestSender, readonly dedup: IngestDedup | null = null) {}

  /** Queues the events and resolves (never rejects) once each one was accepted, absorbed as a duplicate, or failed. */
  async submit(p: PreparedEvents): Promise<SubmitResult> {
    const result: SubmitResult = { accepted: 0, duplicates: 0, batchIds: [], failed: [] };
    let outcomes: EventOutcome[];
    if (this.sender.isClosing || !this.sender.hasRoom(p.events.length)) {
      const error = this.sender.isClosing
        ? new IngestError('genesys-events-out is closing: event not sent', 'closed')
        : new IngestError(`ingest queue full: ${p.events.length} event(s) not sent`, 'queue-full');
      outcomes = p.events.map(() => ({ ok: false, error }));
    } else {
      outcomes = await Promise.all(p.events.map((event, i) => {
        const send = () => this.enqueue(event, p.bytes[i]);
        return this.dedup ? this.dedup.run(ingestEventKey(event), send) : send();
      }));
    }
    const batches = new Set<string>();
    outcomes.forEach((o, index) => {
      if (!o.ok) result.failed.push({ index, interactionId: p.events[index].interactionId, error: o.error });
      else if (o.duplicate) result.duplicates++;
      else { result.accepted++; batches.add(o.batchId); }
    });
    result.batchIds = [...batches];
    return result;
  }

  private enqueue(event: IngestEvent, bytes: number): Promise<EventOutcome> {
    return new Promise((settle) => this.sender.enqueue({ event, bytes, enqueuedAt: Date.now(), settle }));
  }
}
