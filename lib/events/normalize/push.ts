// Guide 000 push delivery: PushNotification {data: RealtimeInteraction, metadata: {eventId, sequence}},
// and a bare RealtimeInteraction (a forwarder that strips the envelope).
import type { PushNotification, RealtimeInteraction } from '../../genesys/shapes';
import { deriveId, duration, event, isObject, mapMedia, mapState, timeMs } from './common';
import type { MapContext, Mapper, NormalizedInteraction } from './types';

function mapInteraction(d: RealtimeInteraction, ctx: MapContext, raw: object, eventId: unknown, sequence: unknown): NormalizedInteraction {
  const ms = timeMs(d.timestamp);
  // Without metadata, the interaction itself is the fingerprint: a redelivery hashes the same.
  const id = eventId !== undefined ? eventId : typeof d.conversationId === 'string' ? deriveId(d.conversationId, JSON.stringify(d)) : undefined;
  return event(ctx, {
    conversation_id: d.conversationId,
    event_id: id,
    sequence: sequence !== undefined ? sequence : Number.isFinite(ms) ? ms : 0,
    ms,
    timestampSource: d.timestamp,
    interaction_type: typeof d.type === 'string' ? (mapMedia(d.type) ?? (d.type as any)) : undefined,
    state: mapState(d.state),
    queue_id: d.queue?.id,
    queue_name: d.queue?.name,
    agent_id: d.agent?.id,
    agent_name: d.agent?.name,
    direction: d.direction,
    wait_time_ms: duration(d.waitTimeMs),
    talk_time_ms: duration(d.talkTimeMs),
    wrap_up_time_ms: duration(d.wrapUpTimeMs),
    customer_channel_id: d.customer?.channelId,
    raw,
  });
}

export const pushMapper: Mapper = {
  shape: 'push',
  defaultSource: 'webhook',
  matches: (p) => isObject(p.data) && isObject(p.metadata) && typeof p.data.conversationId === 'string',
  map: (p: PushNotification, ctx) => mapInteraction(p.data, ctx, p, p.metadata.eventId, p.metadata.sequence),
  key: (p: PushNotification) => {
    const { eventId, sequence } = p.metadata;
    return eventId === undefined || eventId === null || eventId === '' || sequence === undefined ? undefined : `${eventId}:${sequence}`;
  },
  sourcePaths: {
    event_id: 'metadata.eventId', sequence: 'metadata.sequence', timestamp: 'data.timestamp', interaction_type: 'data.type',
    state: 'data.state', conversation_id: 'data.conversationId', queue_id: 'data.queue.id', queue_name: 'data.queue.name',
    agent_id: 'data.agent.id', agent_name: 'data.agent.name', direction: 'data.direction', wait_time_ms: 'data.waitTimeMs',
    talk_time_ms: 'data.talkTimeMs', wrap_up_time_ms: 'data.wrapUpTimeMs', customer_channel_id: 'data.customer.channelId',
    partition_path: 'data.timestamp + data.type',
  },
};

export const realtimeMapper: Mapper = {
  shape: 'realtime',
  defaultSource: 'webhook',
  matches: (p) => typeof p.conversationId === 'string' && typeof p.type === 'string' && 'state' in p && !('participants' in p),
  map: (p: RealtimeInteraction, ctx) => mapInteraction(p, ctx, p, undefined, undefined),
  sourcePaths: {
    event_id: 'sha1(conversationId | JSON of the event)', sequence: 'timestamp (ms)', timestamp: 'timestamp', interaction_type: 'type',
    state: 'state', conversation_id: 'conversationId', queue_id: 'queue.id', queue_name: 'queue.name', agent_id: 'agent.id',
    agent_name: 'agent.name', direction: 'direction', wait_time_ms: 'waitTimeMs', talk_time_ms: 'talkTimeMs',
    wrap_up_time_ms: 'wrapUpTimeMs', customer_channel_id: 'customer.channelId', partition_path: 'timestamp + type',
  },
};
