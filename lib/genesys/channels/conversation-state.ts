// What backfill and the janitor need to know about a conversation body, whichever shape it has:
// a queue/user conversation event, GET /api/v2/conversations/{id}, or a details-query conversation.
import type { AnalyticsConversation, ConversationParticipant, MediaSession, QueueConversationEvent } from '../shapes';

const MEDIA_KEYS = ['calls', 'callbacks', 'chats', 'emails', 'messages', 'videos'] as const;
const ENDED_STATES = new Set(['disconnected', 'terminated', 'ended', 'closed']);

/** The conversation id of an event body (`id` on the platform, `conversationId` in analytics shapes). */
export function conversationIdOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { id?: unknown; conversationId?: unknown };
  const id = typeof b.id === 'string' ? b.id : typeof b.conversationId === 'string' ? b.conversationId : undefined;
  return id && id.length <= 256 ? id : undefined;
}

function sessionsOf(p: ConversationParticipant): MediaSession[] {
  const out: MediaSession[] = [];
  for (const k of MEDIA_KEYS) {
    const list = p[k];
    if (Array.isArray(list)) out.push(...list.filter((s) => s && typeof s === 'object'));
  }
  return out;
}

/**
 * True when the conversation is over: an explicit endTime/conversationEnd or ended state, or every
 * participant has ended (endTime set, or all of its media sessions disconnected/terminated and no
 * wrap-up still pending).
 */
export function isConversationEnded(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  if (typeof b.endTime === 'string' && b.endTime) return true;
  if (typeof b.conversationEnd === 'string' && b.conversationEnd) return true;
  if (typeof b.state === 'string' && ENDED_STATES.has(b.state.toLowerCase())) return true;
  const participants = Array.isArray(b.participants) ? (b.participants as ConversationParticipant[]) : [];
  if (!participants.length) return false;
  return participants.every((p) => {
    if (!p || typeof p !== 'object') return true;
    if (typeof p.endTime === 'string' && p.endTime) return true;
    // An agent in after-call work has disconnected its media but the conversation is not final yet.
    if (p.wrapupRequired && !p.wrapup && !p.endAcwTime) return false;
    const sessions = sessionsOf(p);
    if (!sessions.length) return typeof p.state === 'string' && ENDED_STATES.has(String(p.state).toLowerCase());
    return sessions.every((s) => typeof s.state === 'string' && ENDED_STATES.has(s.state.toLowerCase()));
  });
}

/** The queue and user topics a conversation body belongs to (queue topics first). */
export function topicsOfConversation(body: unknown): string[] {
  const queues = new Set<string>();
  const users = new Set<string>();
  const b = (body && typeof body === 'object' ? body : {}) as { participants?: unknown };
  for (const p of Array.isArray(b.participants) ? b.participants : []) {
    if (!p || typeof p !== 'object') continue;
    const part = p as { queueId?: unknown; userId?: unknown; sessions?: { segments?: { queueId?: unknown }[] }[] };
    if (typeof part.queueId === 'string') queues.add(part.queueId);
    if (typeof part.userId === 'string') users.add(part.userId);
    for (const s of Array.isArray(part.sessions) ? part.sessions : []) {
      for (const seg of Array.isArray(s?.segments) ? s.segments : []) if (typeof seg?.queueId === 'string') queues.add(seg.queueId);
    }
  }
  return [...[...queues].map((q) => `v2.routing.queues.${q}.conversations`), ...[...users].map((u) => `v2.users.${u}.conversations`)];
}

/** Keeps what a queue conversation event carries from a GET /api/v2/conversations/{id} body. */
export function fromConversationResource(body: Record<string, unknown>): QueueConversationEvent {
  const keep = ['recentTransfers', 'recordingState', 'address', 'externalTag', 'divisions'];
  const out: QueueConversationEvent = { id: String(body.id), participants: Array.isArray(body.participants) ? body.participants as ConversationParticipant[] : [] };
  for (const k of keep) if (body[k] !== undefined) out[k] = body[k];
  return out;
}

const MEDIA_KEY_BY_TYPE: Record<string, (typeof MEDIA_KEYS)[number]> = { voice: 'calls', chat: 'chats', email: 'emails', message: 'messages', sms: 'messages', callback: 'callbacks', video: 'videos' };

/** A best-effort queue conversation event from a details-query conversation (when GET is not possible). */
export function fromAnalyticsConversation(c: AnalyticsConversation): QueueConversationEvent {
  const participants = (Array.isArray(c.participants) ? c.participants : []).map((p) => {
    const sessions = Array.isArray(p.sessions) ? p.sessions : [];
    const segments = sessions.flatMap((s) => (Array.isArray(s.segments) ? s.segments : []));
    const last = segments[segments.length - 1];
    const ended = Boolean(c.conversationEnd || last?.segmentEnd);
    const out: ConversationParticipant = { id: p.participantId, purpose: p.purpose, ...(p.userId ? { userId: p.userId } : {}), ...(p.participantName ? { name: p.participantName } : {}) };
    const queueId = segments.find((s) => s.queueId)?.queueId;
    if (queueId) out.queueId = queueId;
    if (ended) out.endTime = c.conversationEnd ?? last?.segmentEnd;
    for (const s of sessions) {
      const key = MEDIA_KEY_BY_TYPE[String(s.mediaType).toLowerCase()] ?? 'calls';
      const list = (out[key] as MediaSession[] | undefined) ?? [];
      list.push({ id: s.sessionId, state: ended ? 'DISCONNECTED' : 'CONNECTED', ...(s.direction ? { direction: s.direction as 'inbound' | 'outbound' } : {}) });
      out[key] = list;
    }
    return out;
  });
  return { id: c.conversationId, participants };
}
