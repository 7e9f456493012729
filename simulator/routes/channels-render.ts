// How the simulator's notification channels show a conversation: the topics a change is published
// on, and the platform's queue/user conversation event body (participants with media sessions).
import type { SimConversation } from '../world';
import type { ConversationParticipant, MediaSession, QueueConversationEvent } from '../../lib/genesys/shapes';
import { derivedId } from './conversation-render';

const MEDIA_KEY = { voice: 'calls', chat: 'chats', email: 'emails', sms: 'messages' } as const;
const MEDIA_TOPIC = { voice: 'calls', chat: 'chats', email: 'emails', sms: 'messages' } as const;

/** Topics on which a change of this conversation is published. */
export function topicsForConversation(c: Readonly<SimConversation>): string[] {
  const topics = [`v2.routing.queues.${c.queueId}.conversations`, `v2.routing.queues.${c.queueId}.conversations.${MEDIA_TOPIC[c.mediaType]}`];
  if (c.agentId) topics.push(`v2.users.${c.agentId}.conversations`);
  return topics;
}

/** The platform's queue/user conversation event body for a simulated conversation. */
export function renderQueueConversationEvent(c: Readonly<SimConversation>, guideMode = false): QueueConversationEvent {
  const ended = c.state === 'ended';
  const customerGone = ended || c.state === 'wrapup';
  const customerEnd = c.state === 'wrapup' ? c.wrapupStartTime : c.endTime;
  const session = (suffix: string, state: string, extra: Partial<MediaSession> = {}): MediaSession => ({
    id: derivedId(c.id, `${suffix}-session`), state, initialState: suffix === 'agent' ? 'ALERTING' : 'CONNECTED', direction: c.direction,
    held: false, muted: false, recording: false, ...(c.mediaType === 'sms' ? { type: 'sms' } : {}), ...extra,
  });
  const media = (s: MediaSession): Partial<ConversationParticipant> => ({ [MEDIA_KEY[c.mediaType]]: [s] });
  const participants: ConversationParticipant[] = [{
    id: derivedId(c.id, 'customer'), purpose: 'customer', address: c.customerAddress, connectedTime: c.startTime,
    ...(customerGone ? { endTime: customerEnd } : {}),
    ...media(session('customer', customerGone ? 'DISCONNECTED' : 'CONNECTED', {
      held: c.state === 'held', connectedTime: c.startTime,
      ...(customerGone ? { disconnectedTime: customerEnd, disconnectType: 'peer' } : {}),
    })),
  }];
  const acdOpen = c.state === 'queued' || c.state === 'alerting';
  const acdEnd = c.connectedTime ?? c.endTime;
  participants.push({
    id: derivedId(c.id, 'acd'), purpose: 'acd', queueId: c.queueId, name: 'ACD', connectedTime: c.startTime,
    ...(guideMode ? { queueName: c.queueName } : {}),
    ...(acdOpen ? {} : { endTime: acdEnd }),
    ...media(session('acd', acdOpen ? 'CONNECTED' : 'DISCONNECTED', {
      connectedTime: c.startTime, ...(acdOpen ? {} : { disconnectedTime: acdEnd, disconnectType: c.connectedTime ? 'transfer' : 'peer' }),
    })),
  });
  if (c.agentId && c.state !== 'queued') {
    const agentState = c.state === 'alerting' ? 'ALERTING' : c.state === 'connected' || c.state === 'held' ? 'CONNECTED' : 'DISCONNECTED';
    const agentEnd = c.wrapupStartTime ?? c.endTime;
    participants.push({
      id: derivedId(c.id, 'agent'), purpose: 'agent', userId: c.agentId, name: c.agentName, queueId: c.queueId,
      ...(c.connectedTime ? { connectedTime: c.connectedTime } : {}),
      ...(ended ? { endTime: c.endTime } : {}),
      wrapupRequired: true,
      ...(c.wrapupStartTime ? { startAcwTime: c.wrapupStartTime } : {}),
      ...(ended ? { endAcwTime: c.endTime, wrapup: { code: 'default-wrapup', name: 'Default Wrap-up Code' } } : {}),
      ...media(session('agent', agentState, {
        held: c.state === 'held', ...(c.connectedTime ? { connectedTime: c.connectedTime } : {}),
        ...(agentState === 'DISCONNECTED' ? { disconnectedTime: agentEnd, disconnectType: 'client' } : {}),
      })),
    });
  }
  return { ...(c.drift ?? {}), id: c.id, participants, recordingState: 'none', recentTransfers: [], divisions: [{ id: '*' }] };
}
