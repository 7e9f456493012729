// Types of the channel manager: its options, what it emits, and its per-shard bookkeeping.
import type { ReconnectOptions, ReconnectPolicy } from '../reconnect';
import type { GenesysApi, TokenProvider } from '../types';
import type { ChannelInfo } from './channels-api';
import type { NotificationSocket } from './notification-socket';

export interface ChannelManagerOptions {
  api: GenesysApi;
  /** Used to invalidate a revoked token (v2.system.token_revoked). */
  tokens?: TokenProvider;
  maxTopicsPerChannel?: number;
  /** Channels this manager may own; lower it when several managers share one OAuth client. */
  maxChannels?: number;
  idleTimeoutMs?: number;
  pingIntervalMs?: number;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Roll a channel over this long before it expires (never more than 20% of its lifetime). Default 1 h. */
  rolloverLeadMs?: number;
  /** Backoff between failed attempts; default 2 s doubling to 90 s with full jitter (Genesys SDKs). */
  reconnect?: ReconnectOptions;
  requestTimeoutMs?: number;
}

export interface ChannelEvent {
  topicName: string;
  eventBody: any;
  channelId: string;
  receivedAt: string;
  metadata?: Record<string, unknown>;
}

export interface ChannelGap { from: string; to: string; topics: string[]; channelId: string; reason: string }

export type ManagerState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'error' | 'stopped';
export interface ManagerStatus { state: ManagerState; channels: number; shards: number; message?: string }

export type Reason = 'connect' | 'dropped' | 'socket_closing' | 'expiry' | 'no_longer_subscribed' | 'token_revoked';

export interface Connection {
  channel: ChannelInfo;
  socket: NotificationSocket;
  topics: Set<string>;
  /** Set when the socket ended (any cause). */
  downAt?: number;
  /** Events after this time may be missing (subscriptions lost or token revoked). */
  lostFrom?: number;
  /** The channel no longer exists (HEAD 404, token revoked): never reuse or retire it. */
  gone?: boolean;
  /** A handover for this connection is under way: its end is expected. */
  retiring?: boolean;
  /** A new socket to this same channel is being opened (the platform will kick this one). */
  replacing?: boolean;
  /** The socket ended before any replacement socket was started: events after lastInboundAt are lost. */
  diedUnreplaced?: boolean;
  rollover?: NodeJS.Timeout;
}

export interface Shard {
  topics: string[];
  conn: Connection | null;
  /** Operations on one shard run one at a time. */
  queue: Promise<void>;
  policy: ReconnectPolicy;
  failing?: { message: string; hard: boolean };
  retryPending?: boolean;
  removed?: boolean;
}
