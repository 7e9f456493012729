// What every source puts on a Node-RED message beside msg.payload, so that later steps
// (dedup, normalize, kafka-out, dlq) can key, trace and settle it without knowing the source.

export type EventSource =
  | 'webhook'          // genesys-webhook-in (guide 000 push, EventBridge, data action)
  | 'notification'     // genesys-ws-in, notification channels (guide 001)
  | 'analytics-ws'     // genesys-ws-in, realtime analytics socket (guide 004)
  | 'eventstream'      // genesys-eventstream-poll (guide 002)
  | 'details-query'    // genesys-eventstream-poll, conversation details query mode
  | 'backfill'         // REST backfill after a socket gap
  | 'janitor';         // synthetic finalize for zombie conversations

export interface GenesysMeta {
  source: EventSource;
  /** ISO time our process received the event (guide 002's received_at). */
  receivedAt: string;
  /** Set by sources that wait for settlement (webhook-in "after delivery"); see lib/ingest/delivery-tracker. */
  deliveryId?: string;
  /** Notification topic or stream the event came from. */
  topicName?: string;
  channelId?: string;
  backfilled?: boolean;
  synthetic?: boolean;
  /** Verified JWT claims that matter (iss, aud, sub, jti, iat) for webhook events. */
  claims?: Record<string, unknown>;
  /** msg.payload is an array of events (an event batch, lib/events/batch.ts). */
  batch?: boolean;
  /** Per event of a batch: the notification topic it came from, when known. */
  topicNames?: (string | undefined)[];
}

/** The message shape sources emit. msg.key is the Kafka key (the conversation id). */
export interface GenesysEventMessage {
  _msgid?: string;
  payload: any;
  key?: string;
  topic?: string;
  genesys: GenesysMeta;
  [k: string]: unknown;
}
