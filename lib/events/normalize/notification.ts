// Notification-channel envelopes (guide 001 / platform), bare conversation bodies, and Amazon
// EventBridge envelopes whose detail is a notification envelope (real push path, GENESYS-API.md).
import type { EventBridgeEnvelope, NotificationEnvelope } from '../../genesys/shapes';
import { isObject } from './common';
import { isConversationBody, mapConversation } from './conversation';
import type { MapContext, Mapper, NormalizeFailure, ShapeName } from './types';

const CONVERSATION_PATHS: Mapper['sourcePaths'] = {
  event_id: 'sha1(eventBody.id | JSON of eventBody)', sequence: 'latest time in eventBody (ms), else 0',
  timestamp: 'latest time in eventBody', interaction_type: 'media array of the customer (else acd, agent) participant',
  state: 'participants[].<media>[].state', conversation_id: 'eventBody.id', queue_id: 'acd participant queueId',
  queue_name: 'acd participant queueName or name', agent_id: 'agent participant userId', agent_name: 'agent participant name',
  direction: 'customer session direction', wait_time_ms: 'acd session connectedTime..disconnectedTime',
  talk_time_ms: 'agent session connectedTime..disconnectedTime', wrap_up_time_ms: 'agent startAcwTime..endAcwTime',
  customer_channel_id: 'customer participant address', partition_path: 'timestamp + interaction_type',
};

function unsupported(shape: ShapeName, topic: string, why: string): NormalizeFailure {
  return { reason: 'validation', code: 'unsupported', message: `topic ${topic || '(none)'}: ${why}`, path: '', shape };
}

function mapEnvelope(env: NotificationEnvelope, topic: string, ctx: MapContext, raw: object, shape: ShapeName): ReturnType<Mapper['map']> {
  if (topic === 'channel.metadata' || topic.startsWith('v2.system.')) {
    return unsupported(shape, topic, 'channel control message (heartbeat, pong or system topic), not an interaction event');
  }
  if (!isConversationBody(env.eventBody)) {
    return unsupported(shape, topic, 'eventBody is not a conversation (needs id and participants[])');
  }
  return mapConversation(env.eventBody, { ...ctx, topicName: topic || ctx.topicName }, raw);
}

export const notificationMapper: Mapper = {
  shape: 'notification',
  defaultSource: 'notification',
  matches: (p) => typeof p.topicName === 'string' && 'eventBody' in p,
  map: (p: NotificationEnvelope, ctx) => mapEnvelope(p, p.topicName, ctx, p, 'notification'),
  sourcePaths: CONVERSATION_PATHS,
};

export const conversationMapper: Mapper = {
  shape: 'conversation',
  defaultSource: 'notification',
  matches: isConversationBody,
  map: (p, ctx) => mapConversation(p, ctx, p),
  sourcePaths: CONVERSATION_PATHS,
};

export const eventBridgeMapper: Mapper = {
  shape: 'eventbridge',
  defaultSource: 'webhook',
  matches: (p) => typeof p['detail-type'] === 'string' && isObject(p.detail),
  map: (p: EventBridgeEnvelope, ctx) => {
    const detail = p.detail as NotificationEnvelope | any;
    const topic = typeof detail.topicName === 'string' ? detail.topicName : p['detail-type'];
    // EventBridge's time stands in only when the body has no time at all (sequence stays 0 then).
    const inner: MapContext = { ...ctx, topicName: topic, fallbackTime: typeof p.time === 'string' ? p.time : ctx.fallbackTime };
    if ('eventBody' in detail) return mapEnvelope(detail, topic, inner, p, 'eventbridge');
    if (isConversationBody(detail)) return mapConversation(detail, inner, p);
    return unsupported('eventbridge', topic, 'detail is neither a notification envelope nor a conversation');
  },
  sourcePaths: Object.fromEntries(Object.entries(CONVERSATION_PATHS).map(([k, v]) => [k, (v as string).replace(/eventBody/g, 'detail.eventBody')])),
};
