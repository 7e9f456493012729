// Guide 001 / platform: flattens a conversation body (participants with nested media sessions)
// into one interaction event. The same code serves the notification eventBody (a delta in the
// guide, a whole conversation on the platform), EventBridge's detail.eventBody and
// GET /api/v2/conversations/{id} (backfill, janitor). Source states compare case-insensitively.
import type { ConversationParticipant, MediaSession, QueueConversationEvent } from '../../genesys/shapes';
import { deriveId, event, isEndedState, isObject, LatestTime, mapMedia, mapState, spanMs, str, timeMs } from './common';
import type { MapContext, NormalizedInteraction } from './types';

/** Media arrays of a participant, in the order a primary session is looked for. */
const MEDIA_KEYS = ['calls', 'chats', 'emails', 'messages', 'callbacks', 'videos'] as const;
const SESSION_TIMES = ['connectedTime', 'disconnectedTime', 'startHoldTime', 'startAlertingTime'] as const;
const PARTICIPANT_TIMES = ['connectedTime', 'endTime', 'startAcwTime', 'endAcwTime'] as const;

/** One participant with its primary media session. */
interface Leg {
  p: ConversationParticipant;
  s: MediaSession | undefined;
  media: string | undefined;
}

function leg(p: ConversationParticipant): Leg {
  let fallback: Leg | undefined;
  for (const key of MEDIA_KEYS) {
    const sessions = p[key];
    if (!Array.isArray(sessions) || sessions.length === 0) continue;
    // The newest session that is still going; else the newest session of the first media found.
    for (let i = sessions.length - 1; i >= 0; i--) {
      if (isObject(sessions[i]) && !isEndedState(sessions[i].state)) return { p, s: sessions[i], media: key };
    }
    fallback ??= { p, s: sessions[sessions.length - 1], media: key };
  }
  return fallback ?? { p, s: undefined, media: undefined };
}

function active(l: Leg): boolean {
  return l.s ? !isEndedState(l.s.state) : !l.p.endTime;
}

function held(l: Leg | undefined): boolean {
  return l !== undefined && l.s !== undefined && l.s.held === true && active(l);
}

/** An agent whose session ended but whose after-call work is still open. */
function pendingWrapup(l: Leg): boolean {
  const p = l.p;
  if (p.endAcwTime) return false;
  if (p.startAcwTime) return true;
  const acw = l.s?.afterCallWork;
  if (isObject(acw) && typeof acw.state === 'string') return acw.state.toLowerCase() === 'pending';
  const required = p.wrapupRequired === true || l.s?.afterCallWorkRequired === true;
  return required && !p.wrapup && !l.s?.wrapup && Boolean(l.s?.connectedTime ?? p.connectedTime);
}

function mediaOf(l: Leg | undefined): ReturnType<typeof mapMedia> {
  return l?.media ? mapMedia(l.media, l.s?.type) : undefined;
}

const QUEUE_TOPIC = /^v2\.routing\.queues\.([^.]+)\.conversations(?:\.([a-z]+))?$/i;
const USER_TOPIC = /^v2\.users\.[^.]+\.conversations(?:\.([a-z]+))?$/i;

/** The interaction state from the roles' legs (see README: State). */
function flattenState(customer: Leg | undefined, acd: Leg | undefined, agent: Leg | undefined, ivr: Leg | undefined, body: any): string | undefined {
  if (agent && active(agent)) {
    const s = mapState(agent.s?.state) ?? 'connected';
    return s === 'connected' && (held(agent) || held(customer)) ? 'held' : s;
  }
  const customerActive = customer ? active(customer) : undefined;
  if (customerActive !== false) {
    if (acd && active(acd)) return 'queued';
    if (ivr && active(ivr)) return 'ivr';
  }
  if (agent && pendingWrapup(agent)) return 'wrapup';
  if (customer && customerActive) {
    const s = mapState(customer.s?.state) ?? 'connected';
    return s === 'connected' && held(customer) ? 'held' : s;
  }
  if (customerActive === false) return 'disconnected';
  return mapState(body.state) ?? (agent ? 'disconnected' : undefined);
}

/** Maps a conversation body; raw is the object that goes to raw_payload (envelope or body). */
export function mapConversation(body: QueueConversationEvent, ctx: MapContext, raw: object): NormalizedInteraction {
  let customer: Leg | undefined;
  let acd: Leg | undefined;
  let agent: Leg | undefined;
  let ivr: Leg | undefined;
  let other: Leg | undefined;
  const latest = new LatestTime();
  latest.add(body.startTime);
  latest.add(body.endTime);
  const participants = Array.isArray(body.participants) ? body.participants : [];
  for (const p of participants) {
    if (!isObject(p)) continue;
    for (const t of PARTICIPANT_TIMES) latest.add(p[t]);
    for (const key of MEDIA_KEYS) {
      const sessions = p[key];
      if (!Array.isArray(sessions)) continue;
      for (const s of sessions) {
        if (!isObject(s)) continue;
        for (const t of SESSION_TIMES) latest.add(s[t]);
      }
    }
    const l = leg(p);
    const purpose = typeof p.purpose === 'string' ? p.purpose.toLowerCase() : '';
    if (purpose === 'customer' || purpose === 'external') customer ??= l;
    else if (purpose === 'acd') acd = l;
    // The agent who has the interaction now: the last active one, else the last one.
    else if (purpose === 'agent' || purpose === 'user') { if (!agent || active(l) || !active(agent)) agent = l; }
    else if (purpose === 'ivr' || purpose === 'workflow') ivr = l;
    else other ??= l;
  }
  const topic = typeof ctx.topicName === 'string' ? ctx.topicName : '';
  const topicMatch = QUEUE_TOPIC.exec(topic) ?? USER_TOPIC.exec(topic);
  const topicMedia = topicMatch ? mapMedia(topicMatch[topicMatch.length - 1]) : undefined;
  const bodyMs = latest.ms;
  const hasBodyTime = Number.isFinite(bodyMs);
  // The time of the latest change in the body is the event time; without one, EventBridge's
  // time or our receive time stands in (sequence then is 0 so that it stays deterministic).
  const ms = hasBodyTime ? bodyMs : timeMs(ctx.fallbackTime ?? ctx.receivedAt);
  const conversationId = body.id;
  const wrapupSeconds = agent?.p.wrapup?.durationSeconds;
  const acw = agent?.s?.afterCallWork;
  return event(ctx, {
    conversation_id: conversationId,
    event_id: typeof conversationId === 'string' ? deriveId(conversationId, JSON.stringify(body)) : undefined,
    sequence: hasBodyTime ? bodyMs : 0,
    ms,
    timestampSource: undefined,
    interaction_type: mediaOf(customer) ?? mediaOf(acd) ?? mediaOf(agent) ?? mediaOf(ivr) ?? mediaOf(other) ?? topicMedia,
    state: flattenState(customer, acd, agent, ivr, body),
    queue_id: acd?.p.queueId ?? agent?.p.queueId ?? customer?.p.queueId ?? (topicMatch && topicMatch.length === 3 ? topicMatch[1] : null),
    queue_name: acd?.p.queueName ?? acd?.p.name ?? agent?.p.queueName ?? null,
    agent_id: agent?.p.userId ?? null,
    agent_name: agent?.p.name ?? null,
    direction: customer?.s?.direction ?? agent?.s?.direction ?? acd?.s?.direction ?? null,
    wait_time_ms: acd ? spanMs(acd.s?.connectedTime ?? acd.p.connectedTime, acd.s?.disconnectedTime ?? acd.p.endTime) : null,
    talk_time_ms: agent
      ? spanMs(agent.s?.connectedTime ?? agent.p.connectedTime, agent.s?.disconnectedTime ?? agent.p.startAcwTime ?? agent.p.endTime)
      : null,
    wrap_up_time_ms: agent
      ? spanMs(agent.p.startAcwTime, agent.p.endAcwTime)
        ?? (isObject(acw) ? spanMs(acw.startTime, acw.endTime) : null)
        ?? (typeof wrapupSeconds === 'number' ? Math.round(wrapupSeconds * 1000) : null)
      : null,
    customer_channel_id: customer ? str(customer.p.address) ?? str((customer.s?.self as any)?.addressNormalized) : null,
    raw,
  });
}

/** True for a conversation body: an id and a participants array. */
export function isConversationBody(p: any): boolean {
  return isObject(p) && typeof p.id === 'string' && Array.isArray(p.participants);
}
