// Client of the realtime analytics WebSocket (guide 004) for genesys-ws-in's "realtime analytics"
// mode. The real platform has no such socket (see GENESYS-API.md): real orgs use notification
// channels with v2.routing.queues.{id}.conversations or v2.analytics.* topics instead.
//
// Usage (nodes/genesys-ws-in):
//   const socket = new AnalyticsSocket({ tokens, apiBase: 'https://api.mypurecloud.com',
//     subscription: { type: 'conversation', filters: { queueIds: ['…'] } } });
//   socket.on('event', (msg, raw) => send({ payload: msg, key: msg.data.conversationId, ... }));
//   socket.on('malformed', (raw, reason) => node.error(...));        // never dropped silently
//   socket.on('server-error', (msg) => node.warn(...));              // e.g. the subscribe was refused
//   socket.on('state', (state, info) => node.status(...));           // connecting|connected|reconnecting|closed
//   socket.on('gap', ({ from, to }) => backfill(from, to));           // socket was down: events in between are lost
//   socket.start();  ...  await socket.close();                       // in on('close', (removed, done) => …)
//
// The token travels in the query string as the guide requires; it is never logged, and every
// message this class produces goes through redact().
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { jsonTextTooDeep, MAX_JSON_DEPTH } from '../ingest/json-depth';
import type { AnalyticsEventMessage, AnalyticsSubscribe } from './shapes';
import type { TokenProvider } from './types';
import { ReconnectPolicy, type ReconnectOptions } from './reconnect';

export const ANALYTICS_REALTIME_PATH = '/api/v2/analytics/realtime';

export type AnalyticsSocketState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface AnalyticsStateInfo {
  /** Why the socket is (re)connecting: 'dead socket', 'HTTP 401', 'closed 1006', ... (never a token). */
  reason?: string;
  /** Delay before the next attempt, ms (reconnecting only). */
  delayMs?: number;
  /** Failed attempts in a row. */
  attempt?: number;
}

export interface AnalyticsSocketOptions {
  tokens: TokenProvider;
  /** API base (https://api.{env}, http://127.0.0.1:port for the simulator) or a ws(s):// URL; the path is appended. */
  apiBase: string;
  /** Sent after every (re)connect. Default { type: 'conversation' }. */
  subscription?: AnalyticsSubscribe;
  /** Backoff between attempts. Default: the Genesys SDKs' 2 s doubling to a 90 s cap, full jitter, 100 ms floor. */
  reconnect?: ReconnectOptions;
  /** Interval of WebSocket pings, ms. Default 15 000. */
  pingIntervalMs?: number;
  /** No message or pong for this long → the socket is dead: terminate and reconnect. Default 35 000. */
  deadAfterMs?: number;
  /** Handshake timeout, ms. Default 15 000. */
  connectTimeoutMs?: number;
  /** Frames above this size close the socket (ws answers 1009) and it reconnects. Default 8 MiB. */
  maxFrameBytes?: number;
  /** Optional debug logger; receives redacted text only. */
  log?: (level: 'debug' | 'warn', message: string) => void;
}

export interface AnalyticsSocketEvents {
  event: [msg: AnalyticsEventMessage, raw: string];
  malformed: [raw: string, reason: string];
  'server-error': [msg: Record<string, unknown>];
  state: [state: AnalyticsSocketState, info: AnalyticsStateInfo];
  gap: [gap: { from: string; to: string }];
}

interface Connection { ws: WebSocket; token: string; status: number; failure: string }

const EVENT_TYPES = new Set(['conversation:start', 'conversation:update', 'conversation:end']);

export class AnalyticsSocket extends EventEmitter<AnalyticsSocketEvents> {
  private readonly policy: ReconnectPolicy;
  private readonly url: string;
  private subscription: AnalyticsSubscribe;
  private conn: Connection | null = null;
  private current: AnalyticsSocketState = 'closed';
  private started = false;
  /** Bumped by close(): callbacks of an older generation do nothing. */
  private generation = 0;
  private everConnected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private lastInbound = 0;
  private downSince: number | null = null;
  private retried401 = false;
  private attempt = 0;

  private readonly maxFrameBytes: number;

  constructor(private readonly opts: AnalyticsSocketOptions) {
    super();
    this.maxFrameBytes = opts.maxFrameBytes ?? 8 * 1024 * 1024;
    this.url = realtimeUrl(opts.apiBase);
    this.subscription = opts.subscription ?? { type: 'conversation' };
    this.policy = new ReconnectPolicy({ initialMs: 2000, maxMs: 90_000, minMs: 100, ...opts.reconnect });
  }

  get state(): AnalyticsSocketState { return this.current; }

  /** The endpoint without its query: safe to show in logs and status. */
  get endpoint(): string { return this.url; }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  /** Replaces the subscription; sent at once when connected, and after every reconnect. */
  updateSubscription(sub: AnalyticsSubscribe): void {
    this.subscription = sub;
    if (this.conn?.ws.readyState === WebSocket.OPEN) this.conn.ws.send(JSON.stringify(sub));
  }

  /** Stops every timer and socket; resolves when the socket is gone (at most ~1 s). */
  async close(): Promise<void> {
    this.generation++;
    this.started = false;
    this.clearTimers();
    const ws = this.conn?.ws;
    this.conn = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
        ws.once('close', () => { clearTimeout(force); resolve(); });
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client closing');
        else ws.terminate();
      });
    }
    this.setState('closed', {});
  }

  private async connect(): Promise<void> {
    const generation = this.generation;
    if (this.current === 'closed') this.setState('connecting', {});
    let token: string;
    try {
      token = await this.opts.tokens.getToken();
    } catch (err) {
      if (generation === this.generation) this.scheduleReconnect(`token: ${redact((err as Error).message)}`);
      return;
    }
    if (generation !== this.generation) return;
    const ws = new WebSocket(`${this.url}?access_token=${encodeURIComponent(token)}`, {
      handshakeTimeout: this.opts.connectTimeoutMs ?? 15_000,
      perMessageDeflate: false,
      maxPayload: this.maxFrameBytes, // ws would otherwise buffer frames of up to 100 MiB
    });
    const conn: Connection = { ws, token, status: 0, failure: '' };
    this.conn = conn;
    ws.on('unexpected-response', (_req, res) => {
      conn.status = res.statusCode ?? 0;
      conn.failure = `HTTP ${conn.status}`;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => this.onOpen(conn));
    ws.on('message', (data, isBinary) => {
      if (isBinary) { this.lastInbound = Date.now(); this.emit('malformed', '', 'binary frame'); return; }
      this.onMessage(data.toString());
    });
    ws.on('pong', () => { this.lastInbound = Date.now(); this.policy.reset(); });
    ws.on('error', (err: Error & { code?: string }) => {
      conn.failure ||= redact(err.message);
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.emit('malformed', '', `oversize frame (over ${this.maxFrameBytes} bytes)`);
    });
    ws.on('close', (code) => this.onClose(conn, code));
  }

  private onOpen(conn: Connection): void {
    if (this.conn !== conn) return;
    this.retried401 = false;
    this.attempt = 0;
    this.lastInbound = Date.now();
    conn.ws.send(JSON.stringify(this.subscription));
    this.startPing(conn);
    if (this.downSince !== null) {
      // No durability: whatever happened between the last inbound frame and now was not delivered.
      this.emit('gap', { from: new Date(this.downSince).toISOString(), to: new Date().toISOString() });
      this.downSince = null;
    }
    this.everConnected = true;
    this.setState('connected', {});
  }

  private onClose(conn: Connection, code: number): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.stopPing();
    if (this.everConnected && this.downSince === null) this.downSince = this.lastInbound || Date.now();
    if (conn.status === 401) {
      // A refused token: drop it and retry at once with a fresh one, but only once in a row (no storm).
      this.opts.tokens.invalidate(conn.token);
      if (!this.retried401) {
        this.retried401 = true;
        this.log('warn', `${this.url}: handshake answered 401, retrying with a new token`);
        void this.connect();
        return;
      }
    }
    this.scheduleReconnect(conn.failure || `closed ${code}`);
  }

  private onMessage(raw: string): void {
    this.lastInbound = Date.now();
    // A socket that delivers is healthy: the next failure starts from the initial delay again.
    this.policy.reset();
    // Parsing copes with any depth, but Node-RED's deep clone of the message would overflow the stack.
    if (jsonTextTooDeep(raw)) { this.emit('malformed', raw.slice(0, 200), `nested deeper than ${MAX_JSON_DEPTH} levels`); return; }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.emit('malformed', raw, 'not valid JSON');
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      this.emit('malformed', raw, 'not a JSON object');
      return;
    }
    if (msg.type === 'event') {
      const data = msg.data as Record<string, unknown> | undefined;
      if (!EVENT_TYPES.has(msg.eventType as string)) this.emit('malformed', raw, `unknown eventType ${String(msg.eventType)}`);
      else if (!data || typeof data.conversationId !== 'string' || !data.conversationId) this.emit('malformed', raw, 'event without data.conversationId');
      else {
        try {
          this.emit('event', msg as unknown as AnalyticsEventMessage, raw);
        } catch (err) {
          // A listener's exception would otherwise escape through ws as an uncaught exception: report it instead.
          this.emit('malformed', raw.slice(0, 200), `event handling failed: ${(err as Error).message}`);
        }
      }
    } else if (msg.type === 'error') {
      this.emit('server-error', msg);
    } else {
      this.log('debug', `${this.url}: ${String(msg.type)} message`);
    }
  }

  private scheduleReconnect(reason: string): void {
    this.attempt++;
    const delayMs = this.policy.next();
    this.log('debug', `${this.url}: reconnecting in ${delayMs} ms (${reason})`);
    this.setState('reconnecting', { reason, delayMs, attempt: this.attempt });
    this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.connect(); }, delayMs);
  }

  private startPing(conn: Connection): void {
    const ws = conn.ws;
    const every = this.opts.pingIntervalMs ?? 15_000;
    const deadAfter = this.opts.deadAfterMs ?? 35_000;
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastInbound > deadAfter) {
        this.log('warn', `${this.url}: no message or pong for ${deadAfter} ms, dropping the socket`);
        conn.failure = 'dead socket';
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, Math.max(10, Math.min(every, deadAfter / 2)));
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearTimers(): void {
    this.stopPing();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: AnalyticsSocketState, info: AnalyticsStateInfo): void {
    if (state === this.current && state !== 'reconnecting') return;
    this.current = state;
    this.emit('state', state, info);
  }

  private log(level: 'debug' | 'warn', message: string): void {
    this.opts.log?.(level, redact(message));
  }
}

/** ws(s)://host/api/v2/analytics/realtime from an API base (http→ws, https→wss). */
export function realtimeUrl(apiBase: string): string {
  const u = new URL(apiBase);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith(ANALYTICS_REALTIME_PATH)) u.pathname = u.pathname.replace(/\/+$/, '') + ANALYTICS_REALTIME_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** Hides access tokens in URLs or messages. */
export function redact(text: string): string {
  return text.replace(/(access_token=)[^&\s"']+/gi, '$1[redacted]').replace(/(Bearer\s+)[A-Za-z0-9._~+/-]+=*/gi, '$1[redacted]');
}
