// Event batches: one Node-RED message carrying every event of one webhook request (webhook-in's
// "one message per request" output). Each hop in Node-RED costs CPU per message (routing, a
// setImmediate, done() bookkeeping), and so does each step's per-message work (a dedup round trip, a
// Kafka produce promise); at 10,000 events/s carrying a request's events together is what keeps a
// pipeline on one core. dedup, normalize, kafka-out and dlq accept batches; any other node sees an
// array in msg.payload (a split node makes single events of it, at per-event cost again).
//
// A batch message:
//   msg.payload          the events, in order
//   msg.keys             the Kafka key of each event (the conversation id), same order; optional
//   msg.genesys.batch    true (an array payload without it is one value, e.g. one Kafka record)
//   msg.genesys.topicNames  per event, when the source had them
//   msg.genesys.deliveryId  one id for all events of the delivery ("<delivery>.b"); settling the
//                        message settles one event per element (lib/ingest/delivery-tracker.ts)
import type { GenesysMeta } from './message';

export interface EventBatchMessage {
  _msgid?: string;
  payload: unknown[];
  keys?: (string | undefined)[];
  genesys: GenesysMeta & { batch: true };
  [k: string]: unknown;
}

/** Suffix of a batch message's deliveryId: deliveryOf() of it is the delivery, like any event id. */
export const BATCH_ID_SUFFIX = '.b';

export function isEventBatch(msg: unknown): msg is EventBatchMessage {
  const m = msg as { payload?: unknown; genesys?: { batch?: unknown } } | null;
  return !!m && Array.isArray(m.payload) && m.genesys?.batch === true;
}

/**
 * The batch narrowed to the events at these indexes: a new message object (so that the original can
 * still be changed or reported), same _msgid and other properties, keys and topic names kept aligned.
 */
export function subsetOf(msg: EventBatchMessage, indexes: readonly number[], payload?: unknown[]): EventBatchMessage {
  const out: EventBatchMessage = { ...msg, payload: payload ?? indexes.map((i) => msg.payload[i]) };
  if (msg.keys) out.keys = indexes.map((i) => msg.keys![i]);
  const names = msg.genesys.topicNames;
  if (names) out.genesys = { ...msg.genesys, topicNames: indexes.map((i) => names[i]) };
  return out;
}

/**
 * One ordinary message per event of the batch (what a step that handles events one by one gets):
 * same delivery, so settling each settles one event; genesys.batch and the per-event arrays removed.
 */
export function splitBatch(msg: EventBatchMessage): Record<string, unknown>[] {
  const { keys, genesys, ...rest } = msg;
  const { batch: _batch, topicNames, ...meta } = genesys;
  return msg.payload.map((event, i) => {
    const g: GenesysMeta = { ...meta };
    if (topicNames?.[i]) g.topicName = topicNames[i];
    const one: Record<string, unknown> = { ...rest, payload: event, genesys: g };
    if (keys?.[i] !== undefined) one.key = keys[i];
    return one;
  });
}

/** msg.genesys as event i would carry it alone (its topic name); the batch's own object when there is none. */
export function metaOf(msg: EventBatchMessage, i: number): GenesysMeta {
  const topicName = msg.genesys.topicNames?.[i];
  return topicName ? { ...msg.genesys, topicName } : msg.genesys;
}

/**
 * What eventKey() and normalizeEvent() read of event i's meta (source, receivedAt, topicName),
 * without copying the rest of msg.genesys for every event of a batch as metaOf() does.
 */
export function mapMetaOf(msg: EventBatchMessage, i: number): Pick<GenesysMeta, 'source' | 'receivedAt' | 'topicName'> {
  const g = msg.genesys;
  return { source: g.source, receivedAt: g.receivedAt, topicName: g.topicNames?.[i] ?? g.topicName };
}

/** The view of event i that per-event logic (key expressions, mappers) reads: payload, key, genesys. */
export function eventView(msg: EventBatchMessage, i: number): { payload: unknown; key?: string; genesys: GenesysMeta } {
  return { payload: msg.payload[i], key: msg.keys?.[i], genesys: metaOf(msg, i) };
}
