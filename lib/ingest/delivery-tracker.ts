// Settlement of events that a source must not acknowledge before they are safe
// (webhook-in "after delivery": the HTTP answer waits for Kafka, the DLQ, or dedup).
//
// Node-RED clones a message for every extra wire, so the link between an event and its
// waiting HTTP request is a plain string on the message, msg.genesys.deliveryId, and this
// process-wide registry. Terminal steps call settle(msg, outcome):
//   kafka-out  after the broker acknowledged the record   -> 'stored'
//   dlq        after the dead letter is in Kafka or the fsynced spool -> 'dead-lettered'
//   dedup      when it drops a duplicate of an event already stored -> 'duplicate'
// A delivery opened with expectedSettlements = 2 (e.g. raw + normalized dual write) completes
// after two settlements per event. Nothing settles a failure: if no terminal step takes an
// event before the timeout, the delivery fails and the source answers 503 so the sender retries.
// onDone(id, hook) tells a step in the middle (dedup) how the delivery of its message ended, so it
// can make its claim on the event final (ok) or give it back for the sender's retry (failed).

export type SettleOutcome = 'stored' | 'dead-lettered' | 'duplicate';

export interface DeliveryResult {
  ok: boolean;
  /** Events settled before completion or timeout. */
  settled: number;
  expected: number;
  outcomes: Record<SettleOutcome, number>;
}

/** The delivery an id belongs to (ids are "<delivery>.<index>"): equal for the events of one request or page. */
export function deliveryOf(deliveryId: string): string {
  return deliveryId.slice(0, deliveryId.lastIndexOf('.'));
}

/** Called once when the delivery ends: ok = every event settled; false = timeout or cancel. */
export type DeliveryHook = (ok: boolean) => void;

interface PendingDelivery {
  /** One hook, or an array once a second one is added (most deliveries have none or one per event). */
  hooks?: DeliveryHook | DeliveryHook[];
  remaining: number;
  expected: number;
  outcomes: Record<SettleOutcome, number>;
  timer: NodeJS.Timeout;
  resolve: (r: DeliveryResult) => void;
}

export class DeliveryTracker {
  private readonly pending = new Map<string, PendingDelivery>();
  private seq = 0;
  private readonly prefix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  private unsettledEvents = 0;
  /** Settlements per second, smoothed; webhook-in derives Retry-After from it. */
  private rate = 0;
  private rateWindowStart = Date.now();
  private rateWindowCount = 0;

  /**
   * Opens a delivery for `events` events, each needing `expectedSettlements` settlements.
   * Returns one deliveryId per event and a promise that resolves when all settled or on timeout.
   */
  open(events: number, timeoutMs: number, expectedSettlements = 1): { ids: string[]; result: Promise<DeliveryResult> } {
    const key = `${this.prefix}-${(this.seq++).toString(36)}`;
    const ids = Array.from({ length: events }, (_, i) => `${key}.${i}`);
    const expected = events * expectedSettlements;
    let resolve!: (r: DeliveryResult) => void;
    const result = new Promise<DeliveryResult>((r) => { resolve = r; });
    if (expected === 0) {
      resolve({ ok: true, settled: 0, expected: 0, outcomes: { stored: 0, 'dead-lettered': 0, duplicate: 0 } });
      return { ids, result };
    }
    const entry: PendingDelivery = {
      remaining: expected,
      expected,
      outcomes: { stored: 0, 'dead-lettered': 0, duplicate: 0 },
      resolve,
      timer: setTimeout(() => this.finish(key, false), timeoutMs),
    };
    // A waiting delivery must not keep the process alive on its own (a closed source cancels it).
    entry.timer.unref();
    this.pending.set(key, entry);
    this.unsettledEvents += expected;
    return { ids, result };
  }

  /**
   * Records a settlement for the message's delivery: one, or one per event of an event batch
   * (msg.genesys.batch, lib/events/batch.ts); unknown or expired ids are ignored.
   */
  settle(msgOrId: { genesys?: { deliveryId?: string; batch?: boolean }; payload?: unknown } | string | undefined, outcome: SettleOutcome): void {
    const id = typeof msgOrId === 'string' ? msgOrId : msgOrId?.genesys?.deliveryId;
    if (!id) return;
    const key = deliveryOf(id);
    const entry = this.pending.get(key);
    if (!entry) return;
    const batch = typeof msgOrId === 'object' && msgOrId.genesys?.batch === true && Array.isArray(msgOrId.payload);
    const n = batch ? Math.min((msgOrId.payload as unknown[]).length, entry.remaining) : 1;
    entry.outcomes[outcome] += n;
    entry.remaining -= n;
    this.unsettledEvents -= n;
    this.countRate(n);
    if (entry.remaining <= 0) this.finish(key, true);
  }

  /**
   * Calls hook(ok) when the delivery the id belongs to ends. Hooks live on the delivery, not per id.
   * Returns false (and never calls the hook) when that delivery is not open: already ended or unknown.
   */
  onDone(deliveryId: string | undefined, hook: DeliveryHook): boolean {
    if (!deliveryId) return false;
    const entry = this.pending.get(deliveryOf(deliveryId));
    if (!entry) return false;
    if (entry.hooks === undefined) entry.hooks = hook;
    else if (typeof entry.hooks === 'function') entry.hooks = [entry.hooks, hook];
    else entry.hooks.push(hook);
    return true;
  }

  /** True while the delivery of this id waits for settlements. */
  isOpen(deliveryId: string | undefined): boolean {
    return !!deliveryId && this.pending.has(deliveryOf(deliveryId));
  }

  /** Ends the deliveries of these ids now as failed (a source closing before they settled). */
  cancel(ids: string[]): void {
    for (const id of ids) this.finish(deliveryOf(id), false);
  }

  /** Settlements still awaited across all open deliveries (the backpressure gauge). */
  get unsettled(): number {
    return this.unsettledEvents;
  }

  /** Smoothed settlements per second over the last few seconds. */
  get drainRate(): number {
    this.countRate(0);
    return this.rate;
  }

  private countRate(n = 1): void {
    this.rateWindowCount += n;
    const now = Date.now();
    const elapsed = now - this.rateWindowStart;
    if (elapsed >= 1000) {
      const current = (this.rateWindowCount * 1000) / elapsed;
      this.rate = this.rate === 0 ? current : this.rate * 0.5 + current * 0.5;
      this.rateWindowStart = now;
      this.rateWindowCount = 0;
    }
  }

  private finish(key: string, ok: boolean): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    this.unsettledEvents -= Math.max(0, entry.remaining);
    entry.resolve({ ok, settled: entry.expected - Math.max(0, entry.remaining), expected: entry.expected, outcomes: entry.outcomes });
    const hooks = entry.hooks;
    if (hooks === undefined) return;
    if (typeof hooks === 'function') runHook(hooks, ok);
    else for (const hook of hooks) runHook(hook, ok);
  }
}

/** A throwing hook must neither stop the others nor break the settle() call that ended the delivery. */
function runHook(hook: DeliveryHook, ok: boolean): void {
  try {
    hook(ok);
  } catch (err) {
    process.emitWarning(`delivery hook failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** The process-wide tracker: every node of this package loaded in one Node-RED shares it. Kept on a
 *  global symbol so that a second copy of this module (a function node's external module, a test
 *  loading sources beside dist) settles the same deliveries. */
const TRACKER_KEY = Symbol.for('node-red-contrib-genesys-cloud-kafka.deliveryTracker');
export const deliveryTracker: DeliveryTracker = ((globalThis as any)[TRACKER_KEY] ??= new DeliveryTracker());
