// The fault suite's own judge: a ledger and topic contents made up by hand, so that each rule of
// "lost = 0" and "duplicates after dedup = 0" is seen to fail when it should.
import { strict as assert } from 'node:assert';
import { eventKey } from '../../lib/events/normalize';
import type { LedgerEntry } from '../../simulator/ledger';
import { ConversationWorld } from '../../simulator/world';
import type { Collected, NormalizedRecord } from './support/collector';
import { checkLedger, duplicates } from './support/ledger-check';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const entry = (e: Partial<LedgerEntry> & Pick<LedgerEntry, 'path' | 'eventId' | 'conversationId' | 'seq'>): LedgerEntry => ({ at: iso(0), delivered: true, ...e });
const empty = (): Collected => ({ interactions: [], analytics: [], raw: [], dlq: [] });
const rec = (r: Partial<NormalizedRecord> & Pick<NormalizedRecord, 'eventId' | 'conversationId' | 'source'>): NormalizedRecord => ({
  key: `${r.eventId}:${r.sequence ?? 1}`, sequence: 1, state: 'connected', receivedAt: iso(0), storedAt: T0 + 10, delivery: '', ...r,
});

function world(ended: Record<string, number>): ConversationWorld {
  const w = new ConversationWorld();
  for (const [id, at] of Object.entries(ended)) {
    w.start({ id, mediaType: 'voice', direction: 'inbound', queueId: 'q', queueName: 'Q', customerAddress: 'tel:+1', startTime: iso(0) });
    w.update(id, { state: 'ended', endTime: iso(at) });
  }
  return w;
}

describe('fault suite: ledger comparison', () => {
  it('push: an acknowledged event in neither topic is lost; in the DLQ it is accounted; a given-up one is lost too', () => {
    const got = empty();
    got.interactions.push(rec({ eventId: 'c1:1', conversationId: 'c1', source: 'webhook', delivery: 'push#1' }));
    got.raw.push({ eventId: 'c1:1', delivery: 'push#1', storedAt: T0 }, { eventId: 'c2:1', delivery: 'push#1', storedAt: T0 }, { eventId: 'c3:1', delivery: 'push#1', storedAt: T0 });
    got.dlq.push({ reason: 'validation', ids: ['c2:1'] });
    const r = checkLedger([
      entry({ path: 'push', eventId: 'c1:1', conversationId: 'c1', seq: 1 }),
      entry({ path: 'push', eventId: 'c2:1', conversationId: 'c2', seq: 1, malformed: true }),
      entry({ path: 'push', eventId: 'c3:1', conversationId: 'c3', seq: 1 }),
      entry({ path: 'push', eventId: 'c4:1', conversationId: 'c4', seq: 1, delivered: false }),
    ], got, new ConversationWorld());
    assert.deepEqual([r.push.stored, r.push.deadLettered, r.push.lost, r.push.givenUp], [1, 1, 2, 1]);
    assert.deepEqual([r.raw.stored, r.raw.lost], [3, 0]);
    assert.match(r.push.examples.join('\n'), /c3:1 .*acknowledged but in neither topic/);
  });

  it('sockets: a delivered event must be there itself; one lost on the platform needs its conversation\'s final state', () => {
    const body = { id: 'c1', participants: [{ purpose: 'customer', calls: [{ state: 'connected', connectedTime: iso(0) }] }] };
    const key = eventKey({ topicName: 't', eventBody: body }, { source: 'notification' })!;
    const got = empty();
    got.interactions.push(rec({ eventId: key.split(':')[0], sequence: Number(key.split(':')[1]), key, conversationId: 'c1', source: 'notification' }));
    // c2 ended at +5 s: a backfill snapshot from +6 s covers its lost event; c3's snapshot predates its end.
    got.interactions.push(rec({ eventId: 'b2', conversationId: 'c2', source: 'backfill', receivedAt: iso(6000) }));
    got.interactions.push(rec({ eventId: 'b3', conversationId: 'c3', source: 'backfill', receivedAt: iso(1000) }));
    const w = world({ c2: 5000, c3: 5000, c4: 5000 });
    const entries = [
      entry({ path: 'notification', eventId: 'c1:1', conversationId: 'c1', seq: 1, payload: body }),
      entry({ path: 'notification', eventId: 'c2:1', conversationId: 'c2', seq: 1, delivered: false, payload: { id: 'c2', participants: [] } }),
      entry({ path: 'notification', eventId: 'c3:1', conversationId: 'c3', seq: 1, delivered: false, payload: { id: 'c3', participants: [] } }),
      entry({ path: 'notification', eventId: 'c4:1', conversationId: 'c4', seq: 1, payload: { id: 'c4', participants: [] } }),
    ];
    const r = checkLedger(entries, got, w);
    assert.deepEqual([r.notification.stored, r.notification.recovered, r.notification.lost], [1, 1, 2]);
    assert.deepEqual(r.recoveredBy, { 'notification via backfill': 1 });
    // After a redeploy the delivered c4 may have died in the flow, but its final state is missing too: still lost.
    assert.equal(checkLedger(entries, got, w, { inProcessLossAccepted: true }).notification.lost, 2);
    // Analytics after a SIGKILL: missing events from before the last kill are counted apart, later ones are lost.
    const analytics = [entry({ path: 'analytics-ws', eventId: 'c5:1', conversationId: 'c5', seq: 1, at: iso(1000) }), entry({ path: 'analytics-ws', eventId: 'c6:1', conversationId: 'c6', seq: 1, at: iso(9000) })];
    const k = checkLedger(analytics, empty(), new ConversationWorld(), { inProcessLossAccepted: true, lostWithProcessPaths: ['analytics-ws'], lostWithProcessBefore: T0 + 5000 });
    assert.deepEqual([k.analytics.lostWithProcess, k.analytics.lost], [1, 1]);
  });

  it('duplicates: retries of a pending or failed delivery are inherent; socket copies and rewrites are not', () => {
    const push = (delivery: string, receivedAt: number, storedAt: number) => rec({ eventId: 'c1:1', conversationId: 'c1', source: 'webhook', delivery, receivedAt: iso(receivedAt), storedAt: T0 + storedAt });
    const d = duplicates([
      push('push#1', 0, 20_000), // stuck while Kafka was down, written at +20 s
      push('push#2', 10_000, 21_000), // the retry after the 503, while the first was still pending
      push('push#3', 25_000, 25_100), // a retry after its predecessor's delivery failed, first already stored
      push('push#3', 25_000, 25_200), // the same delivery written twice
    ]);
    assert.deepEqual([d.total, d.whilePending, d.afterFailedDelivery, d.afterFailedDeliveryStoredFirst, d.rewritten, d.unexplained], [3, 1, 1, 1, 1, 0]);
    const s = duplicates([
      rec({ eventId: 'x', conversationId: 'c1', source: 'notification', delivery: 'q#1', receivedAt: iso(0), storedAt: T0 + 5 }),
      rec({ eventId: 'x', conversationId: 'c1', source: 'notification', delivery: 'u#2', receivedAt: iso(1), storedAt: T0 + 6 }),
    ]);
    assert.equal(s.unexplained, 1, 'a socket copy always is a dedup failure');
    // A push copy of the same attempt after the first was stored: the platform duplicated it, dedup had to drop it.
    const p = duplicates([push('push#1', 0, 100), push('push#1', 5000, 5100)]);
    assert.equal(p.unexplained, 1);
  });
});
