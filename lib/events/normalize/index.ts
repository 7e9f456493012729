// normalize: source event -> normalized interaction event (schemas/interaction.schema.json).
// Picks the mapper from msg.genesys.source (a hint) and the payload's shape, maps without copying
// the source (raw_payload is the same object), then validates. See README.md for every field.
import type { EventSource, GenesysMeta } from '../message';
import { analyticsWsMapper } from './analytics-ws';
import { isObject } from './common';
import { detailsQueryMapper } from './details-query';
import { eventStreamMapper } from './eventstream';
import { conversationMapper, eventBridgeMapper, notificationMapper } from './notification';
import { pushMapper, realtimeMapper } from './push';
import type { MapContext, Mapper, NormalizeFailure, NormalizeResult, NormalizedInteraction, ShapeName } from './types';
import { validateInteraction } from './validate';

export type { NormalizedInteraction, NormalizeFailure, NormalizeResult, ShapeName } from './types';
export { interactionSchema, validateInteraction } from './validate';
export { mapMedia, mapState } from './common';

/** Sniffing order when no hint decides: the most specific shapes first. */
const MAPPERS: readonly Mapper[] = [
  pushMapper, eventBridgeMapper, notificationMapper, analyticsWsMapper, eventStreamMapper, detailsQueryMapper,
  conversationMapper, realtimeMapper,
];

export const SHAPES: Readonly<Record<ShapeName, Mapper>> = Object.fromEntries(MAPPERS.map((m) => [m.shape, m])) as any;

/** Shapes each source emits, tried first (the source hint); sniffing over all shapes follows. */
const BY_SOURCE: Partial<Record<EventSource, readonly Mapper[]>> = {
  webhook: [pushMapper, eventBridgeMapper, notificationMapper, conversationMapper, realtimeMapper],
  notification: [notificationMapper, conversationMapper],
  'analytics-ws': [analyticsWsMapper],
  eventstream: [eventStreamMapper],
  'details-query': [detailsQueryMapper],
  backfill: [conversationMapper, notificationMapper, detailsQueryMapper],
  janitor: [conversationMapper, notificationMapper, detailsQueryMapper],
};

/** The mapper for a payload (object), or undefined for an unknown shape. */
export function detectShape(payload: Record<string, any>, source?: string): Mapper | undefined {
  const hinted = source ? BY_SOURCE[source as EventSource] : undefined;
  if (hinted) for (const m of hinted) if (m.matches(payload)) return m;
  for (const m of MAPPERS) if (m.matches(payload)) return m;
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array (a batched push body? split it into one message per event first)';
  if (ArrayBuffer.isView(v)) return 'a Buffer (parse it to an object first, e.g. with a json node)';
  return typeof v === 'string' ? 'a string (parse it to an object first, e.g. with a json node)' : typeof v;
}

export interface NormalizeOptions {
  /** Force one mapper instead of hint + sniffing. */
  shape?: ShapeName;
}

function context(mapper: Mapper, meta: Partial<GenesysMeta> | undefined, receivedAt: string): MapContext {
  return { source: meta?.source ?? mapper.defaultSource, receivedAt: meta?.receivedAt ?? receivedAt, topicName: meta?.topicName };
}

function pickMapper(payload: unknown, meta: Partial<GenesysMeta> | undefined, opts: NormalizeOptions | undefined): Mapper | NormalizeFailure {
  if (!isObject(payload) || ArrayBuffer.isView(payload)) {
    return { reason: 'validation', code: 'not-an-object', path: '', message: `payload must be an event object, got ${describe(payload)}` };
  }
  const mapper = opts?.shape ? SHAPES[opts.shape] : detectShape(payload, meta?.source);
  if (mapper && (!opts?.shape || mapper.matches(payload))) return mapper;
  const keys = Object.keys(payload).slice(0, 8).join(', ');
  return {
    reason: 'validation', code: 'unknown-shape', path: '',
    message: opts?.shape
      ? `payload is not a ${opts.shape} event (top-level keys: ${keys || 'none'})`
      : `unknown event shape (top-level keys: ${keys || 'none'}; source ${meta?.source ?? 'not set'})`,
  };
}

/** Maps and validates one source event. Never throws for bad input: failures come back as values. */
export function normalizeEvent(payload: unknown, meta?: Partial<GenesysMeta>, opts?: NormalizeOptions): NormalizeResult {
  const mapper = pickMapper(payload, meta, opts);
  if ('reason' in mapper) return { ok: false, error: mapper };
  let out: ReturnType<Mapper['map']>;
  try {
    out = mapper.map(payload, context(mapper, meta, meta?.receivedAt ?? new Date().toISOString()));
  } catch (err) {
    // Only a payload no JSON source can produce gets here (e.g. circular or BigInt values).
    return { ok: false, error: { reason: 'validation', code: 'unknown-shape', path: '', shape: mapper.shape, message: `${mapper.shape} event cannot be mapped: ${(err as Error).message}` } };
  }
  if ('reason' in out) return { ok: false, error: out };
  const problem = validateInteraction(out);
  if (!problem) return { ok: true, event: out, shape: mapper.shape };
  const field = problem.path.split('/')[1] as keyof NormalizedInteraction | undefined;
  return {
    ok: false,
    error: {
      reason: 'validation', code: 'schema', path: problem.path, shape: mapper.shape,
      sourcePath: field ? mapper.sourcePaths[field] : undefined,
      message: `${mapper.shape} event does not fit the interaction schema: ${problem.message}`
        + (field && mapper.sourcePaths[field] ? ` (${field} comes from ${mapper.sourcePaths[field]})` : ''),
    },
  };
}

/**
 * The dedup key of an event, `event_id:sequence`: read from a normalized event, or derived from a raw
 * source event exactly as normalize would derive it (so dedup before or after normalize agrees).
 */
export function eventKey(payload: unknown, meta?: Partial<GenesysMeta>): string | undefined {
  if (!isObject(payload)) return undefined;
  if (payload.event_id !== undefined && payload.sequence !== undefined) {
    return `${payload.event_id}:${payload.sequence}`;
  }
  const mapper = detectShape(payload, meta?.source);
  if (!mapper) return undefined;
  const direct = mapper.key?.(payload);
  if (direct !== undefined) return direct;
  let out: ReturnType<Mapper['map']>;
  try { out = mapper.map(payload, context(mapper, meta, '')); } catch { return undefined; }
  if ('reason' in out || out.event_id === undefined || out.event_id === null || out.event_id === '') return undefined;
  return `${out.event_id}:${out.sequence}`;
}
