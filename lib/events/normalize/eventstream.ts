// Guide 002 event stream poll: {id, entityType, eventType, timestamp, entity:{id, mediaType, status, ...}}.
// Only interaction events are interactions; agentstate events describe an agent and are refused.
import type { EventStreamEvent } from '../../genesys/shapes';
import { duration, event, isObject, mapMedia, mapState, str, timeMs } from './common';
import type { Mapper } from './types';

export const eventStreamMapper: Mapper = {
  shape: 'eventstream',
  defaultSource: 'eventstream',
  matches: (p) => typeof p.id === 'string' && typeof p.entityType === 'string' && 'entity' in p,
  map: (ev: EventStreamEvent, ctx) => {
    if (ev.entityType !== 'interaction') {
      return {
        reason: 'validation', code: 'unsupported', path: '/entityType', sourcePath: 'entityType', shape: 'eventstream',
        message: `entityType ${ev.entityType} is not an interaction event (filter it out before normalize or subscribe to interaction events only)`,
      };
    }
    // A broken rendering (entity not an object) still maps, so validation names what is missing.
    const e: EventStreamEvent['entity'] = isObject(ev.entity) ? ev.entity : ({} as any);
    const ms = timeMs(ev.timestamp);
    return event(ctx, {
      conversation_id: e.id,
      event_id: ev.id,
      sequence: Number.isInteger(e.sequence) ? e.sequence : Number.isFinite(ms) ? ms : 0,
      ms,
      timestampSource: ev.timestamp,
      interaction_type: typeof e.mediaType === 'string' ? (mapMedia(e.mediaType) ?? (e.mediaType as any)) : undefined,
      state: mapState(e.status),
      queue_id: e.queueId ?? null,
      queue_name: e.queueName ?? null,
      agent_id: e.agentId ?? null,
      agent_name: e.agentName ?? null,
      direction: e.direction ?? null,
      wait_time_ms: duration(e.waitTimeMs),
      talk_time_ms: duration(e.talkTimeMs),
      wrap_up_time_ms: duration(e.wrapUpTimeMs),
      customer_channel_id: str(e.customerChannelId) ?? str(e.customerAddress),
      raw: ev,
    });
  },
  sourcePaths: {
    event_id: 'id', sequence: 'entity.sequence, else timestamp (ms)', timestamp: 'timestamp', interaction_type: 'entity.mediaType',
    state: 'entity.status', conversation_id: 'entity.id', queue_id: 'entity.queueId', queue_name: 'entity.queueName',
    agent_id: 'entity.agentId', agent_name: 'entity.agentName', direction: 'entity.direction', wait_time_ms: 'entity.waitTimeMs',
    talk_time_ms: 'entity.talkTimeMs', wrap_up_time_ms: 'entity.wrapUpTimeMs', customer_channel_id: 'entity.customerChannelId',
    partition_path: 'timestamp + entity.mediaType',
  },
};
