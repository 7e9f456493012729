// The truth of the fault suite: the simulator's ledger (every event each delivery path emitted, with
// delivered true/false) against what a consumer read from the output and DLQ topics. What "lost = 0"
// and "duplicates = 0" mean per source is defined at the top of ../faults.test.ts; this file computes it.
import type { LedgerEntry } from '../../../simulator/ledger';
import type { ConversationWorld } from '../../../simulator/world';
import { eventKey } from '../../../lib/events/normalize';
import type { Collected, NormalizedRecord } from './collector';

export interface CheckPolicy {
  /**
   * Socket events (notification, analytics) delivered to a Node-RED that was then redeployed or
   * killed may die with it: accepted when the conversation's final state reached Kafka anyway.
   */
  inProcessLossAccepted?: boolean;
  /**
   * Paths without any replay source in the pipeline (no acknowledgement, no REST safety net): a SIGKILL
   * takes what they held in memory with it, live events and what a restart backfill had fetched alike.
   * Their missing events from before lostWithProcessBefore (the last kill, ms) are counted as
   * lostWithProcess (reported, allowed) instead of lost; later ones must all be there.
   */
  lostWithProcessPaths?: string[];
  lostWithProcessBefore?: number;
  /** How late after the original was stored a platform redelivery may still have found it pending (ms). */
  pendingToleranceMs?: number;
  /** Node-RED was killed or redeployed: a poll page whose delivery died with the flow is emitted again. */
  ackLostWithProcess?: boolean;
}

export interface PathReport {
  /** Ledger entries of this path (one per event). */
  events: number;
  /** Entries the platform delivered (delivered:true). */
  delivered: number;
  /** Found as their own record in the output topic. */
  stored: number;
  /** Found in the DLQ (with a reason header). */
  deadLettered: number;
  /** Not found themselves, but the conversation's final state reached Kafka (lost on the platform, or with the process). */
  recovered: number;
  /** Push only: events the platform gave up on (retry budget exhausted): must be 0. */
  givenUp: number;
  /** Delivered to a Node-RED that was then killed, with nothing to replay them from (see CheckPolicy.lostWithProcessPaths). */
  lostWithProcess: number;
  lost: number;
  /** A few lost entries, for the failure message. */
  examples: string[];
}

export interface DuplicateReport {
  /** Records beyond the first per event_id:sequence. */
  total: number;
  /** Inherent: a copy from a source that waits for acks, arriving while the first copy was not yet stored. */
  whilePending: number;
  /**
   * Inherent: a later delivery attempt of the platform after the first copy's delivery failed (timeout,
   * 503 on close, crash): dedup gives a failed delivery's claim back by design. Counted apart: those that
   * arrived after the first copy had been stored could have been dropped.
   */
  afterFailedDelivery: number;
  afterFailedDeliveryStoredFirst: number;
  /** The same delivery written twice (a Kafka write that failed ambiguously and was retried): only where Kafka broke. */
  rewritten: number;
  /** Anything else (a socket copy, a platform duplicate of a stored event): a dedup failure. */
  unexplained: number;
  examples: string[];
}

export interface LedgerReport {
  push: PathReport;
  notification: PathReport;
  analytics: PathReport;
  details: PathReport;
  /** Push events in genesys.raw (or its DLQ): the raw copy of the dual write. */
  raw: PathReport;
  duplicates: { interactions: DuplicateReport; analytics: DuplicateReport };
  dlq: { records: number; withoutReason: number; byReason: Record<string, number>; examples: string[] };
  records: { interactions: number; analytics: number; raw: number; dlq: number };
  /** Where the notification/analytics recoveries came from. */
  recoveredBy: Record<string, number>;
}

/** event_id:sequence of a notification ledger entry (sha1 of its body: computed once per entry). */
const keyCache = new WeakMap<LedgerEntry, string | undefined>();

const emptyPath = (): PathReport => ({ events: 0, delivered: 0, stored: 0, deadLettered: 0, recovered: 0, givenUp: 0, lostWithProcess: 0, lost: 0, examples: [] });

function lose(r: PathReport, e: LedgerEntry, why: string): void {
  r.lost++;
  if (r.examples.length < 5) r.examples.push(`${e.path} ${e.eventId} seq ${e.seq} delivered=${e.delivered}${e.malformed ? ' malformed' : ''} at ${e.at}: ${why}`);
}

function groupBy<T>(items: T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (k === undefined) continue;
    const list = m.get(k);
    if (list) list.push(t); else m.set(k, [t]);
  }
  return m;
}

export function checkLedger(entries: readonly LedgerEntry[], got: Collected, world: ConversationWorld, policy: CheckPolicy = {}): LedgerReport {
  const dlqIds = new Set(got.dlq.flatMap((d) => d.ids));
  const rawDlqIds = new Set(got.dlq.filter((d) => d.originalTopic?.endsWith('genesys.raw')).flatMap((d) => d.ids));
  const interactionsById = groupBy(got.interactions, (r) => r.eventId);
  const interactionsByKey = groupBy(got.interactions, (r) => r.key);
  const interactionsByConversation = groupBy(got.interactions, (r) => r.conversationId);
  const analyticsBySeq = new Set(got.analytics.filter((r) => r.source === 'analytics-ws').map((r) => `${r.conversationId}:${r.sequence}`));
  const analyticsByConversation = groupBy(got.analytics, (r) => r.conversationId);
  const rawIds = new Set(got.raw.map((r) => r.eventId).filter((x): x is string => !!x));
  const report: LedgerReport = {
    push: emptyPath(), notification: emptyPath(), analytics: emptyPath(), details: emptyPath(), raw: emptyPath(),
    duplicates: { interactions: duplicates(got.interactions, policy, rawStoredAt(got.raw)), analytics: duplicates(got.analytics, policy) },
    dlq: { records: got.dlq.length, withoutReason: got.dlq.filter((d) => !d.reason).length, byReason: {}, examples: [] },
    records: { interactions: got.interactions.length, analytics: got.analytics.length, raw: got.raw.length, dlq: got.dlq.length },
    recoveredBy: {},
  };
  const seen = new Set<string>();
  for (const d of got.dlq) {
    report.dlq.byReason[d.reason ?? '(none)'] = (report.dlq.byReason[d.reason ?? '(none)'] ?? 0) + 1;
    const what = `${d.reason} from ${d.failedIn} (${d.source}): ${String(d.message).slice(0, 160)}`;
    if (!seen.has(d.reason + String(d.failedIn)) && report.dlq.examples.length < 6) { seen.add(d.reason + String(d.failedIn)); report.dlq.examples.push(what); }
  }

  // The last ledger entry of each conversation per socket path: its final state.
  const lastOf = (path: string): Map<string, LedgerEntry> => {
    const m = new Map<string, LedgerEntry>();
    for (const e of entries) if (e.path === path && (m.get(e.conversationId)?.seq ?? -1) < e.seq) m.set(e.conversationId, e);
    return m;
  };
  const lastNotification = lastOf('notification');
  const lastAnalytics = lastOf('analytics-ws');
  const notificationKey = (e: LedgerEntry): string | undefined => {
    if (!e.payload) return undefined;
    if (!keyCache.has(e)) keyCache.set(e, eventKey({ topicName: 'v2.routing.queues.x.conversations', eventBody: e.payload }, { source: 'notification' }));
    return keyCache.get(e);
  };

  /** The final state of the conversation is in Kafka: its last event as a record, or a REST snapshot taken after it ended. */
  const finalStateIn = (e: LedgerEntry, kind: 'notification' | 'analytics'): string | undefined => {
    const c = world.get(e.conversationId);
    const endedAt = c?.state === 'ended' && c.endTime ? Date.parse(c.endTime) : NaN;
    const records = (kind === 'notification' ? interactionsByConversation : analyticsByConversation).get(e.conversationId) ?? [];
    const snapshot = records.find((r) => (r.source === 'backfill' || r.source === 'details-query') && Date.parse(r.receivedAt) >= endedAt);
    if (snapshot) return snapshot.source;
    const last = (kind === 'notification' ? lastNotification : lastAnalytics).get(e.conversationId);
    if (!last || last === e || !last.delivered || last.malformed) return undefined;
    const found = kind === 'notification' ? interactionsByKey.has(notificationKey(last) ?? '') : analyticsBySeq.has(`${last.conversationId}:${last.seq}`);
    return found ? 'a later live event' : undefined;
  };

  const detailsConversations = new Set<string>();
  for (const e of entries) {
    if (e.path === 'push') {
      const r = report.push;
      r.events++;
      if (!e.delivered) { r.givenUp++; lose(r, e, 'the platform gave up delivering it'); continue; }
      r.delivered++;
      const raw = report.raw;
      raw.events++;
      raw.delivered++;
      if (rawIds.has(e.eventId)) raw.stored++;
      else if (rawDlqIds.has(e.eventId)) raw.deadLettered++;
      else lose(raw, e, 'not in the raw topic nor its DLQ');
      if (!e.malformed && interactionsById.has(e.eventId)) r.stored++;
      else if (dlqIds.has(e.eventId)) r.deadLettered++;
      else lose(r, e, e.malformed ? 'malformed but not in the DLQ' : 'acknowledged but in neither topic');
    } else if (e.path === 'notification' || e.path === 'analytics-ws') {
      const kind = e.path === 'notification' ? 'notification' : 'analytics';
      const r = report[kind];
      r.events++;
      if (e.delivered) r.delivered++;
      const exact = e.malformed ? false : kind === 'notification' ? interactionsByKey.has(notificationKey(e) ?? '') : analyticsBySeq.has(`${e.conversationId}:${e.seq}`);
      if (exact) { r.stored++; continue; }
      if (e.delivered && !e.malformed && dlqIds.has(notificationKey(e) ?? '')) { r.deadLettered++; continue; }
      // Lost on the platform (socket down), a broken frame, or (accepted where the policy says so) with the process.
      if (!e.delivered || e.malformed || policy.inProcessLossAccepted) {
        const by = finalStateIn(e, kind);
        if (by) { r.recovered++; report.recoveredBy[`${kind} via ${by}`] = (report.recoveredBy[`${kind} via ${by}`] ?? 0) + 1; continue; }
        if (policy.lostWithProcessPaths?.includes(e.path) && Date.parse(e.at) < (policy.lostWithProcessBefore ?? 0)) { r.lostWithProcess++; continue; }
        lose(r, e, 'missing, and the conversation\'s final state never reached Kafka');
      } else lose(r, e, 'delivered to Node-RED but not in Kafka');
    } else if (e.path === 'details-query') {
      report.details.events++;
      report.details.delivered++;
      detailsConversations.add(e.conversationId);
    }
  }
  // Details-query records carry no ledger id (a hash of the record): one record per conversation served.
  for (const id of detailsConversations) {
    if ((interactionsByConversation.get(id) ?? []).some((r) => r.source === 'details-query') || got.dlq.some((d) => d.conversationId === id)) report.details.stored++;
    else {
      report.details.lost++;
      if (report.details.examples.length < 5) report.details.examples.push(`details-query conversation ${id}: served but no details-query record`);
    }
  }
  return report;
}

/** When the raw copy of each push delivery was stored, by `eventId delivery` (the webhook waits for both writes). */
function rawStoredAt(raw: Collected['raw']): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of raw) if (r.eventId) m.set(`${r.eventId} ${r.delivery}`, Math.max(m.get(`${r.eventId} ${r.delivery}`) ?? 0, r.storedAt));
  return m;
}

/** Sources whose messages carry a deliveryId (the source waits for the event to be safe): their dedup claims stay pending. */
const ACKED_SOURCES = new Set(['webhook', 'details-query', 'eventstream']);

/**
 * Copies beyond the first per event_id:sequence, by what caused them. The first copy's delivery was
 * still pending until all its writes were stored: for a push, the normalized record and its raw copy.
 */
export function duplicates(records: NormalizedRecord[], policy: CheckPolicy = {}, rawStored = new Map<string, number>()): DuplicateReport {
  const tolerance = policy.pendingToleranceMs ?? 1000;
  const out: DuplicateReport = { total: 0, whilePending: 0, afterFailedDelivery: 0, afterFailedDeliveryStoredFirst: 0, rewritten: 0, unexplained: 0, examples: [] };
  for (const [key, list] of groupBy(records, (r) => r.key)) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.storedAt - b.storedAt);
    const first = list[0];
    const firstDone = Math.max(first.storedAt, rawStored.get(`${first.eventId} ${first.delivery}`) ?? 0) + tolerance;
    const seen = new Set([`${first.delivery} ${first.receivedAt}`]);
    for (const copy of list.slice(1)) {
      out.total++;
      const received = Date.parse(copy.receivedAt);
      const delivery = `${copy.delivery} ${copy.receivedAt}`;
      let kind: 'whilePending' | 'afterFailedDelivery' | 'rewritten' | 'unexplained';
      if (seen.has(delivery)) kind = 'rewritten';
      else if (!ACKED_SOURCES.has(copy.source) || !ACKED_SOURCES.has(first.source)) kind = 'unexplained';
      else if (received <= firstDone) kind = 'whilePending';
      // The platform retries only a delivery it got no 2xx for (a later attempt number); after a crash or a
      // redeploy a poll page is emitted again with the same (empty) attempt: its first delivery never completed.
      else if (copy.delivery !== first.delivery || policy.ackLostWithProcess) kind = 'afterFailedDelivery';
      else kind = 'unexplained';
      seen.add(delivery);
      out[kind]++;
      if (kind === 'afterFailedDelivery' && received > firstDone) out.afterFailedDeliveryStoredFirst++;
      if (out.examples.length < 5 && (kind === 'unexplained' || kind === 'rewritten' || (kind === 'afterFailedDelivery' && out.examples.length < 2))) {
        const raw = rawStored.get(`${first.eventId} ${first.delivery}`);
        out.examples.push(`${kind} ${key}: first ${first.source} ${first.delivery} received ${first.receivedAt} stored ${new Date(first.storedAt).toISOString()}`
          + `${raw ? ` (raw copy ${new Date(raw).toISOString()})` : ''}; copy ${copy.source} ${copy.delivery} received ${copy.receivedAt}`);
      }
    }
  }
  return out;
}

/** One line per path for logs and assertion messages. */
export function summarize(r: LedgerReport): string {
  const p = (name: string, x: PathReport) => `${name}: ${x.events} events, ${x.delivered} delivered, ${x.stored} stored, ${x.deadLettered} dead-lettered, ${x.recovered} recovered, `
    + `${x.lost} lost${x.givenUp ? ` (${x.givenUp} given up)` : ''}${x.lostWithProcess ? `, ${x.lostWithProcess} died with the killed process` : ''}`;
  const d = (name: string, x: DuplicateReport) => `${name} duplicates: ${x.total} (${x.whilePending} while the first was pending, `
    + `${x.afterFailedDelivery} after its delivery failed [${x.afterFailedDeliveryStoredFirst} of them after the first was stored], ${x.rewritten} rewritten, ${x.unexplained} unexplained)`;
  return [
    p('push', r.push), p('raw', r.raw), p('notification', r.notification), p('analytics', r.analytics), p('details-query', r.details),
    d('interactions', r.duplicates.interactions), d('analytics', r.duplicates.analytics),
    `dlq: ${r.dlq.records} records, ${r.dlq.withoutReason} without reason, ${JSON.stringify(r.dlq.byReason)}`, ...r.dlq.examples.map((e) => `  dead letter: ${e}`),
    `records: ${JSON.stringify(r.records)}; recovered by ${JSON.stringify(r.recoveredBy)}`,
    ...[r.push, r.raw, r.notification, r.analytics, r.details].flatMap((x) => x.examples),
    ...r.duplicates.interactions.examples, ...r.duplicates.analytics.examples,
  ].join('\n');
}
