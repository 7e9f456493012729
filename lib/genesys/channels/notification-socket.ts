// One WebSocket to one notification channel's connectUri: frame parsing and the keep-alive rules
// of the Genesys SDKs (send {"message":"ping"}, drop the socket after ~35 s without inbound data).
// It only reports; the channel manager decides what to do about a drop.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { jsonTextTooDeep, MAX_JSON_DEPTH } from '../../ingest/json-depth';
import type { NotificationEnvelope } from '../shapes';

export interface NotificationSocketOptions {
  connectUri: string;
  channelId: string;
  /** No inbound frame (event, heartbeat, pong) for this long → the socket is dead. Default 35 s. */
  idleTimeoutMs?: number;
  /** Send a ping when nothing arrived for this long. Default 15 s. */
  pingIntervalMs?: number;
  /** Opening handshake timeout. Default 15 s. */
  connectTimeoutMs?: number;
  /** Frames above this size close the socket (ws answers 1009); the manager reconnects and backfills. Default 8 MiB. */
  maxFrameBytes?: number;
}

export type SystemKind = 'socket_closing' | 'no_longer_subscribed' | 'token_revoked' | 'other';

export interface SocketDown {
  code: number;
  reason: string;
  /** True when we closed it ourselves (close()), false for every other end. */
  planned: boolean;
}

/**
 * Events: 'envelope' (env, receivedAt) for notification events; 'system' (kind, env);
 * 'garbage' (reason, bytes) for frames that are not notification envelopes; 'down' (SocketDown) once.
 */
export class NotificationSocket extends EventEmitter {
  readonly channelId: string;
  readonly connectUri: string;
  /** Time of the last inbound frame of any kind: events before it were delivered. */
  lastInboundAt = 0;
  openedAt = 0;
  private ws: WebSocket | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastPingAt = 0;
  private closedByUs = false;
  private isDown = false;
  private readonly idleTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxFrameBytes: number;

  constructor(opts: NotificationSocketOptions) {
    super();
    this.channelId = opts.channelId;
    this.connectUri = opts.connectUri;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 35_000;
    this.pingIntervalMs = Math.min(opts.pingIntervalMs ?? 15_000, this.idleTimeoutMs);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
    this.maxFrameBytes = opts.maxFrameBytes ?? 8 * 1024 * 1024;
  }

  get isOpen(): boolean {
    return !this.isDown && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket; rejects on handshake failure or timeout (then 'down' is not emitted). */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.connectUri, { handshakeTimeout: this.connectTimeoutMs, maxPayload: this.maxFrameBytes, perMessageDeflate: false });
      this.ws = ws;
      let opened = false;
      ws.on('open', () => {
        opened = true;
        this.openedAt = this.lastInboundAt = Date.now();
        this.startWatchdog();
        resolve();
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
      ws.on('error', (err: Error & { code?: string }) => {
        if (!opened) { reject(new Error(`notification socket ${this.channelId}: ${err.message}`)); return; }
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.emit('garbage', 'oversize', this.maxFrameBytes);
      });
      ws.on('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`notification socket ${this.channelId}: HTTP ${res.statusCode}`));
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (!opened) { reject(new Error(`notification socket ${this.channelId}: closed during handshake (${code})`)); return; }
        this.markDown(code, reason.toString('utf8'));
      });
    });
  }

  /** Closes the socket on purpose ('down' fires with planned: true). */
  close(): void {
    this.closedByUs = true;
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client closing');
    else ws.terminate();
    // Do not wait for the server's close frame to report the socket gone.
    this.markDown(1000, 'client closing');
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  /** Drops the socket as broken (watchdog, or the manager deciding it is dead). */
  terminate(reason: string): void {
    this.ws?.terminate();
    this.markDown(1006, reason);
  }

  private markDown(code: number, reason: string): void {
    if (this.isDown) return;
    this.isDown = true;
    this.stopWatchdog();
    this.emit('down', { code, reason, planned: this.closedByUs } satisfies SocketDown);
  }

  private startWatchdog(): void {
    const tick = Math.max(20, Math.min(this.pingIntervalMs, this.idleTimeoutMs) / 4);
    this.watchdog = setInterval(() => {
      const now = Date.now();
      const idle = now - this.lastInboundAt;
      if (idle >= this.idleTimeoutMs) { this.terminate(`no data for ${idle} ms`); return; }
      if (idle >= this.pingIntervalMs && now - this.lastPingAt >= this.pingIntervalMs && this.ws?.readyState === WebSocket.OPEN) {
        this.lastPingAt = now;
        this.ws.send('{"message":"ping"}');
      }
    }, tick);
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.isDown) return;
    const receivedAt = Date.now();
    this.lastInboundAt = receivedAt;
    if (isBinary) { this.emit('garbage', 'binary frame', data.length); return; }
    const text = data.toString('utf8');
    // Parsing copes with any depth, but Node-RED's deep clone of the message would overflow the stack
    // (an uncaught exception inside this socket's message handler stops the whole runtime).
    if (jsonTextTooDeep(text)) { this.emit('garbage', `nested deeper than ${MAX_JSON_DEPTH} levels`, data.length); return; }
    let env: NotificationEnvelope;
    try {
      env = JSON.parse(text);
    } catch {
      this.emit('garbage', 'invalid JSON', data.length);
      return;
    }
    if (!env || typeof env !== 'object' || typeof env.topicName !== 'string') {
      this.emit('garbage', 'no topicName', data.length);
      return;
    }
    if (env.topicName === 'channel.metadata') return; // heartbeat or pong: liveness only
    if (env.topicName.startsWith('v2.system.')) {
      const t = env.topicName;
      const kind: SystemKind = t === 'v2.system.socket_closing' ? 'socket_closing'
        : t.startsWith('v2.system.no_longer_subscribed') ? 'no_longer_subscribed'
          : t.startsWith('v2.system.token_revoked') ? 'token_revoked' : 'other';
      this.emit('system', kind, env);
      return;
    }
    if (!env.eventBody || typeof env.eventBody !== 'object' || Array.isArray(env.eventBody)) {
      this.emit('garbage', 'no eventBody', data.length);
      return;
    }
    try {
      this.emit('envelope', env, receivedAt);
    } catch (err) {
      // A listener's exception would otherwise escape through ws as an uncaught exception: report it instead.
      this.emit('garbage', `event handling failed: ${(err as Error).message}`, data.length);
    }
  }
}
