// The normalized interaction event (schemas/interaction.schema.json) and what a mapper returns.
import type { EventSource } from '../message';
import type { MediaType } from '../../genesys/shapes';

/** Our state vocabulary; an unknown source state is passed on in lower case (forward compatible). */
export type InteractionState =
  | 'ivr' | 'queued' | 'alerting' | 'dialing' | 'connected' | 'held' | 'wrapup' | 'disconnected';

export interface NormalizedInteraction {
  event_id: string;
  sequence: number;
  timestamp: string;
  interaction_type: MediaType;
  queue_id: string | null;
  queue_name: string | null;
  agent_id: string | null;
  agent_name: string | null;
  state: InteractionState | string;
  direction: string | null;
  wait_time_ms: number | null;
  talk_time_ms: number | null;
  wrap_up_time_ms: number | null;
  customer_channel_id: string | null;
  conversation_id: string;
  source: EventSource | string;
  received_at: string;
  partition_path: string;
  /** The source event itself (same object, not a copy). */
  raw_payload: object;
}

/** The source shapes normalize recognises (lib/genesys/shapes.ts). */
export type ShapeName =
  | 'push'               // PushNotification (guide 000)
  | 'realtime'           // a bare RealtimeInteraction (push body without the envelope)
  | 'eventbridge'        // EventBridgeEnvelope around a notification envelope
  | 'notification'       // NotificationEnvelope around a queue/user conversation event (guide 001)
  | 'conversation'       // a bare conversation body (notification eventBody, GET /api/v2/conversations/{id})
  | 'analytics-ws'       // AnalyticsEventMessage (guide 004)
  | 'eventstream'        // EventStreamEvent (guide 002)
  | 'details-query';     // AnalyticsConversation from the conversation details query

/** Why an event could not be normalized; reason is always 'validation' (the DLQ files it at once). */
export interface NormalizeFailure {
  reason: 'validation';
  /** not-an-object | unknown-shape | unsupported | schema */
  code: 'not-an-object' | 'unknown-shape' | 'unsupported' | 'schema';
  message: string;
  /** JSON pointer into the normalized event (schema failures) or '' for the whole payload. */
  path: string;
  /** Where the mapper read that field in the source event, when known (e.g. data.timestamp). */
  sourcePath?: string;
  shape?: ShapeName;
}

export type NormalizeResult =
  | { ok: true; event: NormalizedInteraction; shape: ShapeName }
  | { ok: false; error: NormalizeFailure };

/** What a mapper needs besides the payload. */
export interface MapContext {
  source: EventSource | string;
  receivedAt: string;
  /** Notification topic (msg.genesys.topicName or the envelope's), for queue id and media fallbacks. */
  topicName?: string;
  /** A time to use when the event carries none (EventBridge's time). */
  fallbackTime?: string;
}

/**
 * A mapper fills every normalized field it can; fields it cannot derive stay undefined so that
 * validation names them. sourcePaths tells which source field each normalized field came from.
 */
export interface Mapper {
  shape: ShapeName;
  defaultSource: EventSource;
  matches(p: any): boolean;
  map(p: any, ctx: MapContext): NormalizedInteraction | NormalizeFailure;
  /**
   * The dedup key `event_id:sequence` read straight from the payload when the shape carries both
   * (what map() would give, without mapping); undefined when it has to be derived by map().
   */
  key?(p: any): string | undefined;
  sourcePaths: Partial<Record<keyof NormalizedInteraction, string>>;
}
