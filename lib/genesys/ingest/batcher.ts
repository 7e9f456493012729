// Cuts queued ingest events into request bodies: a batch is due when its body reaches the byte
// budget (default 500 KB, half the endpoint's 1 MB limit) or its oldest event has waited the linger
// time. Batches cut again after a 413 or a partial 400 wait in front of the new events, so a
// split never falls behind later traffic. No timers or I/O here: the sender drives it.
import { randomUUID } from 'node:crypto';
import { bodyBytes, type QueuedEvent } from './types';

export interface Batch {
  id: string;
  parentId?: string;
  items: QueuedEvent[];
  /** Exact size of the request body (JSON.stringify of {events}). */
  bytes: number;
  /** Already the valid rest of a batch answered 400: a second 400 fails it whole. */
  resent?: boolean;
}

export interface BatcherOptions {
  budgetBytes: number;
  lingerMs: number;
  now?: () => number;
}

/** Smallest budget a 413 can teach (below it every event goes alone anyway). */
const MIN_BUDGET = 1024;

export class IngestBatcher {
  private readonly pending: QueuedEvent[] = [];
  private head = 0;
  private pendingEventBytes = 0;
  private readonly ready: Batch[] = [];
  private readyEvents = 0;
  private _budget: number;
  private readonly lingerMs: number;
  private readonly now: () => number;

  constructor(o: BatcherOptions) {
    this._budget = Math.max(MIN_BUDGET, Math.floor(o.budgetBytes));
    this.lingerMs = Math.max(0, o.lingerMs);
    this.now = o.now ?? Date.now;
  }

  /** Byte budget of a batch body now (lowered when Genesys answered 413 below it). */
  get budget(): number {
    return this._budget;
  }

  /** Events waiting for a request (not counting those in flight). */
  get size(): number {
    return this.pending.length - this.head + this.readyEvents;
  }

  add(q: QueuedEvent): void {
    this.pending.push(q);
    this.pendingEventBytes += q.bytes;
  }

  /** Puts batches in front of everything else (the halves of a 413, the rest of a 400), in order. */
  requeueFront(batches: Batch[]): void {
    this.ready.unshift(...batches);
    for (const b of batches) this.readyEvents += b.items.length;
  }

  /** A 413 for a body of `bytes`: later batches stay below half of it. Returns true when the budget dropped. */
  learnLimit(bytes: number): boolean {
    const next = Math.max(MIN_BUDGET, Math.floor(bytes / 2));
    if (next >= this._budget) return false;
    this._budget = next;
    return true;
  }

  /** The next batch to send, if one is due (force: send what is pending now, e.g. while closing). */
  next(force = false): Batch | undefined {
    const r = this.ready.shift();
    if (r) {
      this.readyEvents -= r.items.length;
      return r;
    }
    const count = this.pending.length - this.head;
    if (count === 0) return undefined;
    if (!force && bodyBytes(this.pendingEventBytes, count) < this._budget && this.msUntilDue()! > 0) return undefined;
    return this.cut();
  }

  /** ms until the oldest pending event's linger time is over; undefined when nothing is pending. */
  msUntilDue(): number | undefined {
    if (this.head >= this.pending.length) return undefined;
    return Math.max(0, this.pending[this.head].enqueuedAt + this.lingerMs - this.now());
  }

  /** Removes and returns every event not yet sent (close). */
  drain(): QueuedEvent[] {
    const out = this.ready.flatMap((b) => b.items);
    out.push(...this.pending.slice(this.head));
    this.ready.length = 0;
    this.readyEvents = 0;
    this.pending.length = 0;
    this.head = 0;
    this.pendingEventBytes = 0;
    return out;
  }

  private cut(): Batch {
    const items: QueuedEvent[] = [];
    let eventBytes = 0;
    while (this.head < this.pending.length) {
      const q = this.pending[this.head];
      // Always at least one event: one larger than the budget (but within the request limit) goes alone.
      if (items.length > 0 && bodyBytes(eventBytes + q.bytes, items.length + 1) > this._budget) break;
      items.push(q);
      eventBytes += q.bytes;
      this.head++;
    }
    this.pendingEventBytes -= eventBytes;
    // Drop the consumed prefix now and then instead of shift()ing a long array per event.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return { id: randomUUID(), items, bytes: bodyBytes(eventBytes, items.length) };
  }
}

/** Splits a batch into two halves of about equal bytes (each non-empty; the batch has ≥ 2 events). */
export function splitBatch(b: Batch): [Batch, Batch] {
  let acc = 0;
  let cut = 1;
  for (let i = 0; i < b.items.length - 1; i++) {
    acc += b.items[i].bytes;
    cut = i + 1;
    if (acc * 2 >= b.bytes) break;
  }
  const make = (items: QueuedEvent[], n: number): Batch => ({
    id: `${b.id}.${n}`,
    parentId: b.id,
    items,
    bytes: bodyBytes(items.reduce((s, q) => s + q.bytes, 0), items.length),
  });
  return [make(b.items.slice(0, cut), 1), make(b.items.slice(cut), 2)];
}

/** A batch of some of another's events (the valid rest after a 400). */
export function subBatch(b: Batch, items: QueuedEvent[], suffix: string): Batch {
  return { id: `${b.id}.${suffix}`, parentId: b.id, items, bytes: bodyBytes(items.reduce((s, q) => s + q.bytes, 0), items.length), resent: true };
}
