// Real platform: one conversation of POST /api/v2/analytics/conversations/details/query
// ({conversationId, conversationStart, conversationEnd?, participants:[{purpose, sessions:[{mediaType, segments, metrics}]}]}).
// A record is a snapshot: while the conversation is live, a later query returns more segments and
// so a new event; the same record queried twice hashes to the same event_id (dedup drops it).
import type { AnalyticsConversation, AnalyticsSegment } from '../../genesys/shapes';
import { deriveId, event, isObject, LatestTime, mapMedia, spanMs, str } from './common';
import type { Mapper } from './types';

type Participant = AnalyticsConversation['participants'][number];
type Session = Participant['sessions'][number];

/** Open segment type -> state (the last segment of a session tells what it is doing now). */
const SEGMENT_STATE: Record<string, string> = {
  interact: 'connected', hold: 'held', wrapup: 'wrapup', alert: 'alerting', dialing: 'dialing', contacting: 'dialing', ivr: 'ivr',
};

function lastSession(p: Participant | undefined): Session | undefined {
  const s = p && Array.isArray(p.sessions) ? p.sessions : undefined;
  return s && s.length ? s[s.length - 1] : undefined;
}

function lastSegment(s: Session | undefined): AnalyticsSegment | undefined {
  const segs = s && Array.isArray(s.segments) ? s.segments : undefined;
  return segs && segs.length ? segs[segs.length - 1] : undefined;
}

function openSegment(p: Participant | undefined): AnalyticsSegment | undefined {
  const seg = lastSegment(lastSession(p));
  return seg && !seg.segmentEnd ? seg : undefined;
}

/** Sum of the first metric present (in order) over a participant's sessions, else of closed segment durations of one type. */
function total(p: Participant | undefined, metrics: readonly string[], segmentType: string): number | null {
  if (!p || !Array.isArray(p.sessions)) return null;
  const sums: (number | null)[] = metrics.map(() => null);
  let fromSegments: number | null = null;
  for (const s of p.sessions) {
    if (Array.isArray(s.metrics)) {
      for (const m of s.metrics) {
        const i = metrics.indexOf(m.name);
        if (i >= 0 && typeof m.value === 'number') sums[i] = (sums[i] ?? 0) + m.value;
      }
    }
    if (Array.isArray(s.segments)) {
      for (const seg of s.segments) {
        if (seg.segmentType !== segmentType) continue;
        const d = spanMs(seg.segmentStart, seg.segmentEnd);
        if (d !== null) fromSegments = (fromSegments ?? 0) + d;
      }
    }
  }
  const fromMetrics = sums.find((v) => v !== null);
  return fromMetrics !== undefined && fromMetrics !== null ? Math.round(fromMetrics) : fromSegments;
}

export const detailsQueryMapper: Mapper = {
  shape: 'details-query',
  defaultSource: 'details-query',
  matches: (p) => typeof p.conversationId === 'string' && typeof p.conversationStart === 'string' && Array.isArray(p.participants),
  map: (c: AnalyticsConversation, ctx) => {
    let customer: Participant | undefined;
    let acd: Participant | undefined;
    let agent: Participant | undefined;
    let ivr: Participant | undefined;
    const latest = new LatestTime();
    latest.add(c.conversationStart);
    latest.add(c.conversationEnd);
    let queueId: string | undefined;
    for (const p of c.participants) {
      if (!isObject(p)) continue;
      const purpose = typeof p.purpose === 'string' ? p.purpose.toLowerCase() : '';
      if (purpose === 'customer' || purpose === 'external') customer ??= p;
      else if (purpose === 'acd') acd = p;
      else if (purpose === 'agent' || purpose === 'user') agent = p;
      else if (purpose === 'ivr' || purpose === 'workflow') ivr = p;
      for (const s of Array.isArray(p.sessions) ? p.sessions : []) {
        for (const seg of Array.isArray(s.segments) ? s.segments : []) {
          latest.add(seg.segmentStart);
          latest.add(seg.segmentEnd);
          if (typeof seg.queueId === 'string' && (purpose === 'acd' || !queueId)) queueId = seg.queueId;
        }
      }
    }
    const ms = latest.ms;
    const hasTime = Number.isFinite(ms);
    const state = c.conversationEnd
      ? 'disconnected'
      : SEGMENT_STATE[String(openSegment(agent)?.segmentType).toLowerCase()]
        ?? (openSegment(acd) ? 'queued' : openSegment(ivr) ? 'ivr' : openSegment(customer) ? 'connected' : 'disconnected');
    const cs = lastSession(customer) ?? lastSession(acd) ?? lastSession(agent);
    const direction = c.originatingDirection ?? cs?.direction ?? null;
    const csAny = lastSession(customer) as any;
    const address = csAny
      ? (direction === 'outbound' ? str(csAny.dnis) ?? str(csAny.addressTo) : str(csAny.ani) ?? str(csAny.addressFrom)) ?? str(csAny.remote)
      : null;
    return event(ctx, {
      conversation_id: c.conversationId,
      event_id: deriveId(c.conversationId, JSON.stringify(c)),
      sequence: hasTime ? ms : 0,
      ms: hasTime ? ms : NaN,
      timestampSource: c.conversationStart,
      interaction_type: cs ? mapMedia(cs.mediaType, (cs as any).messageType) ?? (cs.mediaType as any) : undefined,
      state,
      queue_id: queueId ?? null,
      queue_name: str(acd?.participantName),
      agent_id: agent?.userId ?? null,
      agent_name: agent?.participantName ?? null,
      direction,
      wait_time_ms: total(acd, ['tAcd'], 'interact'),
      talk_time_ms: total(agent, ['tTalkComplete', 'tTalk'], 'interact'),
      wrap_up_time_ms: total(agent, ['tAcw'], 'wrapup'),
      customer_channel_id: address,
      raw: c,
    });
  },
  sourcePaths: {
    event_id: 'sha1(conversationId | JSON of the record)', sequence: 'latest segment time (ms)', timestamp: 'latest segment time',
    interaction_type: 'customer session mediaType (messageType sms)', state: 'conversationEnd / last open segment',
    conversation_id: 'conversationId', queue_id: 'acd segment queueId', queue_name: 'acd participantName',
    agent_id: 'agent userId', agent_name: 'agent participantName', direction: 'originatingDirection',
    wait_time_ms: 'acd metric tAcd (else interact segments)', talk_time_ms: 'agent metric tTalkComplete or tTalk (else interact segments)',
    wrap_up_time_ms: 'agent metric tAcw (else wrapup segments)', customer_channel_id: 'customer session ani/addressFrom (dnis if outbound)',
    partition_path: 'timestamp + interaction_type',
  },
};
