// The event shapes that reach this package, one per source. The simulator emits exactly these;
// normalize maps each of them into the normalized interaction event (schemas/interaction.schema.json).
// Real-platform shapes follow ../shared/GENESYS-API.md; guide-only shapes follow their guide.

export type MediaType = 'voice' | 'chat' | 'email' | 'sms';

// ---- Notification channels (real platform; guide 001) ------------------------------------

/** Every WebSocket frame on a notification channel. */
export interface NotificationEnvelope<B = any> {
  topicName: string;                 // v2.routing.queues.<qid>.conversations, channel.metadata, v2.system.*
  version?: string;                  // "2"
  eventBody: B;
  metadata?: { CorrelationId?: string; [k: string]: unknown };
}

/** One media session of a participant (calls[], chats[], emails[], messages[], callbacks[]). */
export interface MediaSession {
  id: string;
  state: string;                     // ALERTING, CONNECTED, DISCONNECTED, TERMINATED, ... (any case)
  initialState?: string;
  direction?: 'inbound' | 'outbound';
  held?: boolean;
  muted?: boolean;
  recording?: boolean;
  disconnectType?: string;
  connectedTime?: string;
  disconnectedTime?: string;
  type?: string;                     // messages[].type: sms, webmessaging, ...
  [k: string]: unknown;
}

export interface ConversationParticipant {
  id: string;
  purpose: 'customer' | 'external' | 'agent' | 'user' | 'acd' | 'ivr' | 'workflow' | string;
  userId?: string;
  name?: string;
  queueId?: string;
  queueName?: string;                // not on the platform's body; the simulator adds it in guide mode only
  address?: string;
  connectedTime?: string;
  endTime?: string;
  wrapupRequired?: boolean;
  wrapup?: { code?: string; name?: string; notes?: string; durationSeconds?: number };
  startAcwTime?: string;
  endAcwTime?: string;
  attributes?: Record<string, string>;
  calls?: MediaSession[];
  callbacks?: MediaSession[];
  chats?: MediaSession[];
  emails?: MediaSession[];
  messages?: MediaSession[];
  videos?: MediaSession[];
  [k: string]: unknown;
}

/** eventBody of v2.routing.queues.{id}.conversations and v2.users.{id}.conversations. */
export interface QueueConversationEvent {
  id: string;                        // conversation id
  participants: ConversationParticipant[];
  recentTransfers?: unknown[];
  recordingState?: string;
  address?: string;
  externalTag?: string;
  divisions?: unknown[];
  [k: string]: unknown;
}

// ---- Push delivery (guide 000; served by the simulator only) ------------------------------

/** A realtime:interaction event: the flattened subset the guide's filter language addresses. */
export interface RealtimeInteraction {
  conversationId: string;
  type: MediaType;
  state: string;                     // waiting, alerting, connected, held, wrapup, disconnected, ended
  direction?: 'inbound' | 'outbound';
  timestamp: string;
  queue?: { id: string; name?: string } | null;
  agent?: { id: string; name?: string } | null;
  customer?: { channelId?: string } | null;
  waitTimeMs?: number;
  talkTimeMs?: number;
  wrapUpTimeMs?: number;
  [k: string]: unknown;
}

/** Body of one push POST (an array of these for batched delivery). */
export interface PushNotification {
  data: RealtimeInteraction;
  metadata: {
    eventId: string;                 // stable across redeliveries
    sequence: number;                // per conversation, increasing
    subscriptionId?: string;
    deliveryAttempt?: number;
    publishedAt?: string;
  };
  signature?: string;
}

/** The realtime:interaction field paths a push filter may use (guide 000's trap: nothing else). */
export const REALTIME_INTERACTION_FIELDS = [
  'conversationId', 'type', 'state', 'direction', 'timestamp',
  'queue.id', 'queue.name', 'agent.id', 'agent.name', 'customer.channelId',
  'waitTimeMs', 'talkTimeMs', 'wrapUpTimeMs',
] as const;

/** Amazon EventBridge event as forwarded by an API destination (real push path). */
export interface EventBridgeEnvelope<B = QueueConversationEvent> {
  version?: string;
  id: string;
  'detail-type': string;             // the notification topic
  source: string;                    // aws.partner/genesys.com/cloud/<org>/<suffix>
  account?: string;
  time: string;
  region?: string;
  resources?: string[];
  detail: NotificationEnvelope<B>;
}

// ---- Realtime analytics socket (guide 004; simulator only) --------------------------------

export interface AnalyticsSubscribe {
  type: 'conversation' | 'queue' | 'user';
  filters?: { queueIds?: string[]; userIds?: string[]; mediaTypes?: MediaType[] };
}

export interface AnalyticsEventMessage {
  type: 'event';
  eventType: 'conversation:start' | 'conversation:update' | 'conversation:end';
  timestamp: string;
  data: {
    conversationId: string;
    type: MediaType;
    state: string;                   // active, ended
    queueId?: string;
    participants: { id: string; role: 'agent' | 'customer' | 'acd' | string; state: string; name?: string }[];
    metrics?: { waitTime?: number; talkTime?: number; wrapUpTime?: number };
    sequence?: number;
  };
}

// ---- Event stream poll (guide 002; simulator only) ---------------------------------------

export interface EventStreamEvent {
  id: string;                        // event id, unique within the stream
  entityType: 'interaction' | 'agentstate';
  eventType: 'created' | 'updated';
  timestamp: string;                 // eventTimestamp at the source
  entity: {
    id: string;                      // interaction id (= conversation id) or user id
    mediaType?: MediaType;
    direction?: 'inbound' | 'outbound';
    status?: string;                 // queued, alerting, connected, completed, disconnected
    queueId?: string;
    queueName?: string;
    agentId?: string;
    agentName?: string;
    waitTimeMs?: number;
    talkTimeMs?: number;
    wrapUpTimeMs?: number;
    [k: string]: unknown;
  };
}

export interface EventStreamPollResponse {
  events: EventStreamEvent[];
  cursor: string;                    // pass back as ?cursor= to continue after the last event
  hasMore?: boolean;
}

// ---- Conversation details query (real platform) ------------------------------------------

export interface AnalyticsSegment {
  segmentStart: string;
  segmentEnd?: string;
  segmentType: 'interact' | 'hold' | 'wrapup' | 'alert' | 'ivr' | 'dialing' | string;
  queueId?: string;
  wrapUpCode?: string;
  disconnectType?: string;
}

export interface AnalyticsConversation {
  conversationId: string;
  conversationStart: string;
  conversationEnd?: string;
  originatingDirection?: 'inbound' | 'outbound';
  participants: {
    participantId: string;
    participantName?: string;
    purpose: string;
    userId?: string;
    sessions: { sessionId: string; mediaType: string; direction?: string; segments: AnalyticsSegment[]; metrics?: { name: string; value: number; emitDate: string }[] }[];
  }[];
}

// ---- Events ingest (guide 003; simulator only) -------------------------------------------

export interface IngestEvent {
  eventType: string;
  eventTime: string;                 // ISO 8601 with timezone
  interactionId: string;
  routingMetadata: { queueId: string; skill: string; actionType: 'ANSWER' | 'TRANSFER' | 'DISCONNECT' | 'QUEUE' | 'REQUEUE' };
  attributes?: Record<string, unknown>;
  schemaVersion: 1 | 2 | 3;
}
