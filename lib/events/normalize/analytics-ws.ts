// Guide 004 realtime analytics socket: {type:'event', eventType, timestamp, data:{conversationId, type,
// state, queueId, participants:[{id, role, state, name}], metrics, sequence?}}.
import type { AnalyticsEventMessage } from '../../genesys/shapes';
import { deriveId, duration, event, isEndedState, isObject, mapMedia, mapState, str, timeMs } from './common';
import type { Mapper } from './types';

type RealtimeParticipant = AnalyticsEventMessage['data']['participants'][number];

function state(m: AnalyticsEventMessage, customer?: RealtimeParticipant, acd?: RealtimeParticipant, agent?: RealtimeParticipant): string | undefined {
  const d = m.data;
  if (m.eventType === 'conversation:end' || (typeof d.state === 'string' && d.state.toLowerCase() === 'ended')) return 'disconnected';
  if (agent && !isEndedState(agent.state)) return mapState(agent.state);
  if (acd && !isEndedState(acd.state)) return 'queued';
  return mapState(agent?.state) ?? mapState(customer?.state) ?? mapState(d.state);
}

export const analyticsWsMapper: Mapper = {
  shape: 'analytics-ws',
  defaultSource: 'analytics-ws',
  matches: (p) => p.type === 'event' && typeof p.eventType === 'string' && isObject(p.data),
  map: (m: AnalyticsEventMessage, ctx) => {
    const d = m.data;
    let customer: RealtimeParticipant | undefined;
    let acd: RealtimeParticipant | undefined;
    let agent: RealtimeParticipant | undefined;
    if (Array.isArray(d.participants)) {
      for (const p of d.participants) {
        if (!isObject(p)) continue;
        const role = typeof p.role === 'string' ? p.role.toLowerCase() : '';
        if (role === 'customer' || role === 'external') customer ??= p;
        else if (role === 'acd') acd = p;
        else if (role === 'agent' || role === 'user') { if (!agent || !isEndedState(p.state) || isEndedState(agent.state)) agent = p; }
      }
    }
    const ms = timeMs(m.timestamp);
    const metrics = isObject(d.metrics) ? d.metrics : undefined;
    return event(ctx, {
      conversation_id: d.conversationId,
      // The socket carries no event id: the whole message (type, time, data) is the fingerprint.
      event_id: typeof d.conversationId === 'string' ? deriveId(d.conversationId, JSON.stringify(m)) : undefined,
      sequence: Number.isInteger(d.sequence) ? d.sequence : Number.isFinite(ms) ? ms : 0,
      ms,
      timestampSource: m.timestamp,
      interaction_type: typeof d.type === 'string' ? (mapMedia(d.type) ?? (d.type as any)) : undefined,
      state: state(m, customer, acd, agent),
      queue_id: d.queueId ?? null,
      queue_name: str((acd as any)?.name) ?? str((d as any).queueName),
      agent_id: agent?.id ?? null,
      agent_name: agent?.name ?? null,
      direction: (d as any).direction ?? null,
      wait_time_ms: duration(metrics?.waitTime),
      talk_time_ms: duration(metrics?.talkTime),
      wrap_up_time_ms: duration(metrics?.wrapUpTime),
      customer_channel_id: customer ? str((customer as any).channelId) ?? str((customer as any).address) : null,
      raw: m,
    });
  },
  sourcePaths: {
    event_id: 'sha1(data.conversationId | JSON of the message)', sequence: 'data.sequence, else timestamp (ms)',
    timestamp: 'timestamp', interaction_type: 'data.type', state: 'eventType / data.participants[role=agent].state',
    conversation_id: 'data.conversationId', queue_id: 'data.queueId', queue_name: 'data.participants[role=acd].name',
    agent_id: 'data.participants[role=agent].id', agent_name: 'data.participants[role=agent].name',
    wait_time_ms: 'data.metrics.waitTime', talk_time_ms: 'data.metrics.talkTime', wrap_up_time_ms: 'data.metrics.wrapUpTime',
    customer_channel_id: 'data.participants[role=customer].channelId', partition_path: 'timestamp + data.type',
  },
};
