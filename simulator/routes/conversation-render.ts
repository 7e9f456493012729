// Renders a simulated conversation the way two real REST endpoints show it:
// GET /api/v2/conversations/{id} (Conversation: lowercase media states) and the analytics
// conversation details query (AnalyticsConversation: participants → sessions → segments, metrics).
import { createHash } from 'node:crypto';
import type { SimConversation } from '../world';
import type { AnalyticsConversation, AnalyticsSegment, ConversationParticipant, MediaSession } from '../../lib/genesys/shapes';

/** Stable UUID-shaped id for a participant/session of a conversation, so repeated reads agree. */
export function derivedId(conversationId: string, role: string): string {
  const h = createHash('sha1').update(`${conversationId}/${role}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const MEDIA_KEY = { voice: 'calls', chat: 'chats', email: 'emails', sms: 'messages' } as const;
const ANALYTICS_MEDIA = { voice: 'voice', chat: 'chat', email: 'email', sms: 'message' } as const;

/** Conversation as GET /api/v2/conversations/{id} returns it. */
export function renderConversation(c: Readonly<SimConversation>): Record<string, unknown> {
  const ended = c.state === 'ended';
  const customerGone = ended || c.state === 'wrapup';
  const customerEnd = customerGone ? c.wrapupStartTime ?? c.endTime : undefined;
  const acdEnd = c.connectedTime ?? (ended ? c.endTime : undefined);
  const participants: ConversationParticipant[] = [
    withMedia(c, {
      id: derivedId(c.id, 'customer'), purpose: 'customer', address: c.customerAddress,
      connectedTime: c.startTime, endTime: customerEnd,
    }, customerGone ? 'disconnected' : 'connected', { connectedTime: c.startTime, disconnectedTime: customerEnd, disconnectType: customerGone ? 'peer' : undefined }),
    withMedia(c, {
      id: derivedId(c.id, 'acd'), purpose: 'acd', name: c.queueName, queueId: c.queueId,
      connectedTime: c.startTime, endTime: acdEnd,
    }, acdEnd ? 'disconnected' : 'connected', { connectedTime: c.startTime, disconnectedTime: acdEnd, disconnectType: acdEnd ? 'transfer' : undefined }),
  ];
  if (c.agentId) {
    const inAcw = c.state === 'wrapup';
    const agentDone = inAcw || ended;
    const state = c.state === 'alerting' ? 'alerting' : agentDone ? 'disconnected' : 'connected';
    const agentEnd = agentDone ? c.wrapupStartTime ?? c.endTime : undefined;
    participants.push(withMedia(c, {
      id: derivedId(c.id, 'agent'), purpose: 'agent', userId: c.agentId, name: c.agentName, queueId: c.queueId,
      connectedTime: c.connectedTime, endTime: ended ? c.endTime : undefined,
      wrapupRequired: agentDone,
      startAcwTime: agentDone ? c.wrapupStartTime : undefined,
      endAcwTime: ended ? c.endTime : undefined,
      wrapup: ended ? { code: 'default-wrapup', name: 'Default Wrap-up Code', durationSeconds: acwSeconds(c) } : undefined,
    }, state, { connectedTime: c.connectedTime, disconnectedTime: agentEnd, held: c.state === 'held', disconnectType: agentDone ? 'client' : undefined }));
  }
  return prune({
    ...(c.drift ?? {}),
    id: c.id,
    startTime: c.startTime,
    endTime: ended ? c.endTime : undefined,
    state: ended ? 'disconnected' : 'connected',
    address: c.customerAddress,
    participants,
    recordingState: 'none',
    recentTransfers: [],
    divisions: [{ division: { id: derivedId('division', 'home') }, entities: [] }],
    selfUri: `/api/v2/conversations/${c.id}`,
  });
}

function withMedia(c: Readonly<SimConversation>, p: ConversationParticipant, state: string, extra: Partial<MediaSession>): ConversationParticipant {
  const session: MediaSession = prune({
    id: derivedId(c.id, `${p.purpose}-session`), state, initialState: p.purpose === 'agent' ? 'alerting' : 'connected',
    direction: c.direction, held: false, recording: false, ...extra,
    ...(c.mediaType === 'sms' ? { type: 'sms' } : {}),
  });
  return prune({ ...p, [MEDIA_KEY[c.mediaType]]: [session] });
}

/** Conversation as one entry of the details query's `conversations`. */
export function renderAnalyticsConversation(c: Readonly<SimConversation>): AnalyticsConversation {
  const mediaType = ANALYTICS_MEDIA[c.mediaType];
  const ended = c.state === 'ended';
  const emit = (at: string | undefined, name: string, value: number) => (at ? [{ name, value, emitDate: at }] : []);
  const ms = (a?: string, b?: string) => (a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : 0);
  const session = (role: string, segments: AnalyticsSegment[], metrics: { name: string; value: number; emitDate: string }[]) => ({
    sessionId: derivedId(c.id, `${role}-session`), mediaType, direction: c.direction,
    ...(c.mediaType === 'sms' ? { messageType: 'sms' } : {}),
    segments: segments.map((s) => prune(s)), metrics,
  });
  const customerEnd = c.wrapupStartTime ?? (ended ? c.endTime : undefined);
  const acdEnd = c.connectedTime ?? (ended ? c.endTime : undefined);
  const participants: AnalyticsConversation['participants'] = [
    { participantId: derivedId(c.id, 'customer'), participantName: c.customerAddress, purpose: 'customer',
      sessions: [session('customer', [{ segmentStart: c.startTime, segmentEnd: customerEnd, segmentType: 'interact', disconnectType: customerEnd ? 'peer' : undefined }], [])] },
    { participantId: derivedId(c.id, 'acd'), participantName: c.queueName, purpose: 'acd',
      sessions: [session('acd', [{ segmentStart: c.startTime, segmentEnd: acdEnd, segmentType: 'interact', queueId: c.queueId, disconnectType: acdEnd ? 'transfer' : undefined }], [
        ...emit(c.startTime, 'nOffered', 1),
        ...(c.connectedTime ? emit(c.connectedTime, 'tAcd', ms(c.startTime, c.connectedTime)) : emit(ended ? c.endTime : undefined, 'tAbandon', ms(c.startTime, c.endTime))),
      ])] },
  ];
  if (c.agentId) {
    const talkEnd = c.wrapupStartTime ?? (ended ? c.endTime : undefined);
    const segments: AnalyticsSegment[] = [];
    if (c.connectedTime) segments.push({ segmentStart: c.connectedTime, segmentEnd: talkEnd, segmentType: 'interact', queueId: c.queueId, disconnectType: talkEnd ? 'client' : undefined });
    else segments.push({ segmentStart: c.startTime, segmentType: 'alert', queueId: c.queueId });
    if (c.state === 'held') segments.push({ segmentStart: c.connectedTime ?? c.startTime, segmentType: 'hold', queueId: c.queueId });
    if (c.wrapupStartTime) segments.push({ segmentStart: c.wrapupStartTime, segmentEnd: ended ? c.endTime : undefined, segmentType: 'wrapup', queueId: c.queueId, wrapUpCode: ended ? 'default-wrapup' : undefined });
    participants.push({ participantId: derivedId(c.id, 'agent'), participantName: c.agentName, purpose: 'agent', userId: c.agentId,
      sessions: [session('agent', segments, [
        ...emit(c.connectedTime, 'tAnswered', ms(c.startTime, c.connectedTime)),
        ...emit(c.wrapupStartTime, 'tTalkComplete', ms(c.connectedTime, c.wrapupStartTime)),
        ...(ended ? emit(c.endTime, 'tAcw', ms(c.wrapupStartTime, c.endTime)) : []),
        ...(ended ? emit(c.endTime, 'tHandle', ms(c.connectedTime, c.endTime)) : []),
      ])] });
  }
  return prune({
    ...(c.drift ?? {}),
    conversationId: c.id,
    conversationStart: c.startTime,
    conversationEnd: ended ? c.endTime : undefined,
    originatingDirection: c.direction,
    participants: participants.map((p) => prune(p)),
  }) as AnalyticsConversation;
}

function acwSeconds(c: Readonly<SimConversation>): number | undefined {
  if (!c.wrapupStartTime || !c.endTime) return undefined;
  return Math.round((Date.parse(c.endTime) - Date.parse(c.wrapupStartTime)) / 1000);
}

/** Drops undefined fields, as the platform omits absent values. */
function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
