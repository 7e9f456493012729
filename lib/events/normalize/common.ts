// Vocabulary and helpers every mapper shares: state and media mapping, derived ids, times.
import * as crypto from 'node:crypto';
import type { MediaType } from '../../genesys/shapes';
import type { InteractionState } from './types';

/** Source state (any case) -> our vocabulary. Anything else is kept in lower case. */
const STATES: Record<string, InteractionState> = {
  ivr: 'ivr',
  queued: 'queued', waiting: 'queued', scheduled: 'queued',
  alerting: 'alerting', offering: 'alerting', ringing: 'alerting',
  dialing: 'dialing', contacting: 'dialing',
  connected: 'connected',
  held: 'held', hold: 'held',
  wrapup: 'wrapup', acw: 'wrapup', 'after-call-work': 'wrapup',
  disconnected: 'disconnected', terminated: 'disconnected', ended: 'disconnected', completed: 'disconnected',
};

export function mapState(state: unknown): string | undefined {
  if (typeof state !== 'string' || state === '') return undefined;
  const lower = state.toLowerCase();
  return STATES[lower] ?? lower;
}

/** True for source states that mean the session is over. */
export function isEndedState(state: unknown): boolean {
  if (typeof state !== 'string') return false;
  const s = state.toLowerCase();
  return s === 'disconnected' || s === 'terminated' || s === 'ended' || s === 'completed';
}

/**
 * Media -> interaction_type. calls, callbacks (a scheduled call back) and video -> voice;
 * chats, webchat and every non-SMS message type (webmessaging, whatsapp, facebook, ...) -> chat.
 */
const MEDIA: Record<string, MediaType> = {
  voice: 'voice', call: 'voice', calls: 'voice', callback: 'voice', callbacks: 'voice', video: 'voice', videos: 'voice',
  chat: 'chat', chats: 'chat', webchat: 'chat', webmessaging: 'chat', message: 'chat', messages: 'chat',
  cobrowse: 'chat', screenshare: 'chat',
  email: 'email', emails: 'email',
  sms: 'sms',
};

/** interaction_type from a media name and, for messages, the message type (sms or not). */
export function mapMedia(media: unknown, messageType?: unknown): MediaType | undefined {
  if (typeof media !== 'string') return undefined;
  const m = MEDIA[media.toLowerCase()];
  if (m === 'chat' && typeof messageType === 'string' && messageType.toLowerCase() === 'sms') return 'sms';
  return m;
}

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object: about twice as fast.
const oneShot: ((alg: string, data: string, enc: 'hex') => string) | undefined = (crypto as any).hash;

/** A stable id for an event that has none: the same input text always gives the same id. */
export function deriveId(conversationId: string, fingerprint: string): string {
  const text = `${conversationId}|${fingerprint}`;
  return oneShot ? oneShot('sha1', text, 'hex') : crypto.createHash('sha1').update(text).digest('hex');
}

/**
 * The latest of many ISO times, parsing as few as possible: Genesys writes times in one canonical
 * form (2024-05-01T10:00:42.000Z), whose string order is time order, so earlier or equal ones are skipped.
 */
export class LatestTime {
  ms = -Infinity;
  private iso: string | undefined;

  add(t: unknown): void {
    if (typeof t !== 'string') return;
    const canonical = t.length === 24 && t.charCodeAt(23) === 90 && t.charCodeAt(10) === 84;
    if (canonical && this.iso !== undefined && t <= this.iso) return;
    const ms = Date.parse(t);
    if (ms > this.ms) {
      this.ms = ms;
      this.iso = canonical ? t : undefined;
    }
  }
}

/** ms since the epoch of an ISO time, or NaN. */
export function timeMs(t: unknown): number {
  return typeof t === 'string' ? Date.parse(t) : NaN;
}

/** Whole ms between two ISO times, or null when either is missing (or the span is negative). */
export function spanMs(from: unknown, to: unknown): number | null {
  const a = timeMs(from);
  const b = timeMs(to);
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? b - a : null;
}

/** Source number -> normalized duration: null when absent, the value itself otherwise (schema checks it). */
export function duration(v: unknown): any {
  return v === undefined || v === null ? null : v;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** YYYY/MM/DD/type of a time in UTC; undefined when either part is unknown (validation names it). */
export function partitionPath(ms: number, type: MediaType | undefined): string | undefined {
  if (!Number.isFinite(ms) || !type) return undefined;
  const d = new Date(ms);
  const mm = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  return `${d.getUTCFullYear()}/${mm < 10 ? '0' : ''}${mm}/${dd < 10 ? '0' : ''}${dd}/${type}`;
}

/** ISO string of ms, or the source value unchanged when it does not parse (so the schema rejects it). */
export function isoOr(ms: number, original: unknown): any {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : original;
}

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Everything a mapper derives; event() adds the context fields in one fixed key order. */
export interface Fields {
  conversation_id: any;
  event_id: any;
  sequence: any;
  /** Event time in ms (NaN when unknown) and the source value, for the error message. */
  ms: number;
  timestampSource: unknown;
  interaction_type: MediaType | undefined;
  state: string | undefined;
  queue_id?: string | null;
  queue_name?: string | null;
  agent_id?: string | null;
  agent_name?: string | null;
  direction?: string | null;
  wait_time_ms?: any;
  talk_time_ms?: any;
  wrap_up_time_ms?: any;
  customer_channel_id?: string | null;
  raw: object;
}

/** Builds the normalized event; every object gets the same keys in the same order (one hidden class). */
export function event(ctx: { source: string; receivedAt: string }, f: Fields): import('./types').NormalizedInteraction {
  return {
    event_id: f.event_id,
    sequence: f.sequence,
    timestamp: isoOr(f.ms, f.timestampSource),
    interaction_type: f.interaction_type as MediaType,
    queue_id: f.queue_id ?? null,
    queue_name: f.queue_name ?? null,
    agent_id: f.agent_id ?? null,
    agent_name: f.agent_name ?? null,
    state: f.state as string,
    direction: f.direction ?? null,
    wait_time_ms: f.wait_time_ms ?? null,
    talk_time_ms: f.talk_time_ms ?? null,
    wrap_up_time_ms: f.wrap_up_time_ms ?? null,
    customer_channel_id: f.customer_channel_id ?? null,
    conversation_id: f.conversation_id,
    source: ctx.source,
    received_at: ctx.receivedAt,
    partition_path: partitionPath(f.ms, f.interaction_type) as string,
    raw_payload: f.raw,
  };
}
