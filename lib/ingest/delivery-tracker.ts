// Settlement of events that a source must not acknowledge before they are safe
// (webhook-in "after delivery": the HTTP answer waits for Kafka, the DLQ, or dedup).
//
// Node-RED clones a message for every extra wire, so the link between an event and its
// waiting HTTP request is a plain string on the message, msg.genesys.deliveryId, and this
// process-wide registry. Terminal steps call settle(msg, outcome):
//   kafka-out  after the broker acknowledged the record   -> 'stored'
//   dlq        after the dead letter is in Kafka or the fsynced spool -> 'dead-lettered'
//   dedup      when it drops a known duplicate            -> 'duplicate'
// A delivery opened with expectedSettlements = 2 (e.g. raw + normalized dual write) completes
// after two settlements per event. Nothing settles a failure: if no terminal step takes an
// event before the timeout, the delivery fails and the source answers 503 so the sender retries.

export type SettleOutcome = 'stored' | 'dead-lettered' | 'duplicate';

export interface DeliveryResult {
  ok: boolean;
  /** Events settled before completion or timeout. */
  settled: number;
  expected: number;
  outcomes: Record<SettleOutcome, number>;
}

interface PendingDelivery {
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

  /** Records one settlement for the message's delivery; unknown or expired ids are ignored. */
  settle(msgOrId: { genesys?: { deliveryId?: string } } | string | undefined, outcome: SettleOutcome): void {
    const id = typeof msgOrId === 'string' ? msgOrId : msgOrId?.genesys?.deliveryId;
    if (!id) return;
    const key = id.slice(0, id.lastIndexOf('.'));
    const entry = this.pending.get(key);
    if (!entry) return;
    entry.outcomes[outcome]++;
    entry.remaining--;
    this.unsettledEvents--;
    this.countRate();
    if (entry.remaining <= 0) this.finish(key, true);
  }

  /** Ends the deliveries of these ids now as failed (a source closing before they settled). */
  cancel(ids: string[]): void {
    for (const id of ids) this.finish(id.slice(0, id.lastIndexOf('.')), false);
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
  }
}

/** The process-wide tracker: every node of this package loaded in one Node-RED shares it. Kept on a
 *  global symbol so that a second copy of this module (a function node's external module, a test
 *  loading sources beside dist) settles the same deliveries. */
const TRACKER_KEY = Symbol.for('node-red-contrib-genesys-cloud-kafka.deliveryTracker');
export const deliveryTracker: DeliveryTracker = ((globalThis as any)[TRACKER_KEY] ??= new DeliveryTracker());
