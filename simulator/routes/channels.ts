// Simulator: notification channels (HTTP + WebSocket), guide 001 / platform.
// Platform behaviour by default; sim.mode === 'guide' answers 429 where the guide says so.
// Like the platform it has no durability: a change published while a channel's socket is
// down is lost (the ledger records it with delivered:false).
import { randomBytes, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { GenesysSimulator, RouteHandler } from '../server';
import { sendJson } from '../server';
import type { ConversationChange, DeliveryFlags } from '../world';
import type { NotificationEnvelope, QueueConversationEvent } from '../../lib/genesys/shapes';
import { renderQueueConversationEvent, topicsForConversation } from './channels-render';

export { renderQueueConversationEvent, topicsForConversation } from './channels-render';

export const MAX_TOPICS_PER_CHANNEL = 1000;
export const MAX_CHANNELS_PER_CLIENT = 20;

export interface SimChannel {
  id: string;
  clientId: string;
  connectUri: string;
  expiresAt: number;
  /** Last create/subscribe/connect: the platform evicts the channel with the oldest last use. */
  lastUsedAt: number;
  topics: Set<string>;
  socket: WebSocket | null;
  /** A half-open socket: no heartbeats, pings ignored, events lost (for watchdog tests). */
  stalled: boolean;
}

export interface ChannelsState {
  channels: Map<string, SimChannel>;
  counts: {
    created: number; evicted: number; expired: number; connections: number; kicked: number;
    heartbeats: number; pings: number; delivered: number; lost: number; rejected429: number; rejected400: number;
  };
  /** How long after v2.system.socket_closing the socket is really closed (about a minute on the platform). */
  socketClosingGraceMs: number;
  maxTopicsPerChannel: number;
  maxChannelsPerClient: number;
  dropSocket(channelId: string): boolean;
  dropAll(): number;
  sendSocketClosing(channelId: string, graceMs?: number): boolean;
  expire(channelId: string): boolean;
  evict(channelId: string): boolean;
  sendNoLongerSubscribed(channelId: string): boolean;
  revokeToken(channelId: string): boolean;
  stall(channelId: string): boolean;
  /** Refuses WebSocket connections (all, or one channel's) for ms and drops the open sockets. */
  blockConnections(ms: number, channelId?: string): void;
  sendRaw(channelId: string, data: string | Buffer): boolean;
  /** Channels of one OAuth client (all clients when omitted). */
  list(clientId?: string): SimChannel[];
  render: typeof renderQueueConversationEvent;
}

export function registerNotificationChannels(sim: GenesysSimulator): void {
  const wss = new WebSocketServer({ noServer: true });
  const channels = new Map<string, SimChannel>();
  const timers = new Set<NodeJS.Timeout>();
  const blocks: { until: number; channelId?: string }[] = [];
  const heartbeat = new Map<WebSocket, NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };
  const lifetimeMs = (): number => sim.opts.channelLifetimeSeconds * 1000;
  const send = (ws: WebSocket | null, frame: unknown): boolean => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
    return true;
  };
  const system = (ch: SimChannel, topic: string, reason: string, message: string): boolean =>
    send(ch.socket, { topicName: topic, version: '2', eventBody: { channelId: ch.id, reason, message }, metadata: { CorrelationId: randomUUID() } });
  const closeSocket = (ch: SimChannel, code = 1000, reason = ''): boolean => {
    const ws = ch.socket;
    if (!ws) return false;
    ch.socket = null;
    stopHeartbeat(ws);
    if (code === 1006) ws.terminate(); else ws.close(code, reason);
    return true;
  };
  const remove = (ch: SimChannel, code: number, reason: string): void => {
    closeSocket(ch, code, reason);
    channels.delete(ch.id);
  };
  const stopHeartbeat = (ws: WebSocket): void => {
    const t = heartbeat.get(ws);
    if (t) clearInterval(t);
    heartbeat.delete(ws);
  };
  const alive = (ch: SimChannel | undefined): ch is SimChannel => {
    if (!ch) return false;
    if (ch.expiresAt > Date.now()) return true;
    state.counts.expired++;
    remove(ch, 1000, 'channel expired');
    return false;
  };
  const ownChannel = (req: http.IncomingMessage, id: string): SimChannel | undefined => {
    const token = sim.checkToken(req);
    const ch = channels.get(id);
    const clientId = token ? sim.tokens.get(token)?.clientId : undefined;
    return alive(ch) && ch.clientId === clientId ? ch : undefined;
  };

  const state: ChannelsState = {
    channels,
    counts: { created: 0, evicted: 0, expired: 0, connections: 0, kicked: 0, heartbeats: 0, pings: 0, delivered: 0, lost: 0, rejected429: 0, rejected400: 0 },
    socketClosingGraceMs: 60_000,
    maxTopicsPerChannel: MAX_TOPICS_PER_CHANNEL,
    maxChannelsPerClient: MAX_CHANNELS_PER_CLIENT,
    dropSocket: (id) => { const ch = channels.get(id); return ch ? closeSocket(ch, 1006) : false; },
    dropAll: () => [...channels.values()].filter((ch) => closeSocket(ch, 1006)).length,
    sendSocketClosing: (id, graceMs) => {
      const ch = channels.get(id);
      const ws = ch?.socket;
      if (!ch || !ws) return false;
      system(ch, 'v2.system.socket_closing', 'maintenance', 'This socket will close soon; connect a new one.');
      later(graceMs ?? state.socketClosingGraceMs, () => { if (ch.socket === ws) closeSocket(ch, 1001, 'socket closing'); });
      return true;
    },
    expire: (id) => { const ch = channels.get(id); if (!ch) return false; ch.expiresAt = Date.now(); return !alive(ch); },
    evict: (id) => { const ch = channels.get(id); if (!ch) return false; state.counts.evicted++; remove(ch, 1000, ''); return true; },
    sendNoLongerSubscribed: (id) => {
      const ch = channels.get(id);
      if (!ch) return false;
      const ok = system(ch, `v2.system.no_longer_subscribed.${id}`, 'subscriptions removed', 'Channel is no longer subscribed');
      ch.topics.clear();
      return ok;
    },
    revokeToken: (id) => {
      const ch = channels.get(id);
      if (!ch) return false;
      const ok = system(ch, `v2.system.token_revoked.${id}`, 'token revoked', 'The token used by this channel was revoked');
      remove(ch, 1000, 'token revoked');
      return ok;
    },
    stall: (id) => { const ch = channels.get(id); if (!ch?.socket) return false; ch.stalled = true; stopHeartbeat(ch.socket); return true; },
    blockConnections: (ms, channelId) => {
      blocks.push({ until: Date.now() + ms, channelId });
      for (const ch of channels.values()) if (!channelId || ch.id === channelId) closeSocket(ch, 1006);
    },
    sendRaw: (id, data) => send(channels.get(id)?.socket ?? null, data),
    list: (clientId) => [...channels.values()].filter((ch) => alive(ch) && (!clientId || ch.clientId === clientId)),
    render: renderQueueConversationEvent,
  };
  sim.state.channels = state;

  sim.route('POST', '/api/v2/notifications/channels', (req, res) => {
    const clientId = sim.tokens.get(sim.checkToken(req) as string)?.clientId ?? 'unknown';
    const mine = state.list(clientId);
    if (mine.length >= state.maxChannelsPerClient) {
      if (sim.mode === 'guide') {
        state.counts.rejected429++;
        sendJson(res, 429, { message: `Maximum of ${state.maxChannelsPerClient} channels per client exceeded`, code: 'too.many.requests', status: 429 }, { 'retry-after': '60' });
        return;
      }
      // The platform does not fail: it silently drops the channel with the oldest last use.
      const oldest = mine.reduce((a, b) => (a.lastUsedAt <= b.lastUsedAt ? a : b));
      state.counts.evicted++;
      remove(oldest, 1000, '');
    }
    const id = `streaming-${randomBytes(12).toString('hex')}`;
    const now = Date.now();
    const ch: SimChannel = {
      id, clientId, connectUri: `${sim.wsBaseUrl}/channels/${id}`, expiresAt: now + lifetimeMs(), lastUsedAt: now,
      topics: new Set(), socket: null, stalled: false,
    };
    channels.set(id, ch);
    state.counts.created++;
    sendJson(res, 200, { connectUri: ch.connectUri, id, expires: new Date(ch.expiresAt).toISOString() });
  });

  sim.route('GET', '/api/v2/notifications/channels', (req, res) => {
    const clientId = sim.tokens.get(sim.checkToken(req) as string)?.clientId;
    const entities = state.list(clientId).map((ch) => ({ connectUri: ch.connectUri, id: ch.id, expires: new Date(ch.expiresAt).toISOString() }));
    sendJson(res, 200, { entities });
  });

  sim.route('HEAD', '/api/v2/notifications/channels/:id', (req, res, ctx) => {
    res.writeHead(ownChannel(req, ctx.params.id) ? 200 : 404);
    res.end();
  });

  const listing = (ch: SimChannel, rejected: Map<string, string> = new Map()) => ({
    entities: [
      ...[...ch.topics].map((id) => ({ id, state: 'Permitted' })),
      ...[...rejected].map(([id, reason]) => ({ id, state: 'Rejected', rejectionReason: reason })),
    ],
  });
  const notFound = (res: http.ServerResponse, id: string): void =>
    sendJson(res, 404, { message: `channel ${id} not found`, code: 'not.found', status: 404 });

  sim.route('GET', '/api/v2/notifications/channels/:id/subscriptions', (req, res, ctx) => {
    const ch = ownChannel(req, ctx.params.id);
    if (!ch) return notFound(res, ctx.params.id);
    sendJson(res, 200, listing(ch));
  });

  const subscribe = (replace: boolean): RouteHandler => (req, res, ctx) => {
    const ch = ownChannel(req, ctx.params.id);
    if (!ch) return notFound(res, ctx.params.id);
    if (!Array.isArray(ctx.body) || ctx.body.some((t: unknown) => !t || typeof (t as { id?: unknown }).id !== 'string')) {
      sendJson(res, 400, { message: 'body must be an array of {id: topic}', code: 'bad.request', status: 400 });
      return;
    }
    const wanted = new Set<string>((ctx.body as { id: string }[]).map((t) => t.id));
    const rejected = new Map<string, string>();
    for (const t of wanted) {
      if (!/^v2\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(t)) { rejected.set(t, 'Invalid topic'); wanted.delete(t); }
    }
    const next = replace ? wanted : new Set([...ch.topics, ...wanted]);
    if (next.size > state.maxTopicsPerChannel) {
      const status = sim.mode === 'guide' ? 429 : 400;
      state.counts[status === 429 ? 'rejected429' : 'rejected400']++;
      sendJson(res, status, { message: `A channel may subscribe to at most ${state.maxTopicsPerChannel} topics (requested ${next.size})`, code: status === 429 ? 'too.many.requests' : 'bad.request', status });
      return;
    }
    ch.topics = next;
    // Resubscribing keeps a channel alive (GENESYS-API.md: "resubscribe to keep it").
    ch.lastUsedAt = Date.now();
    ch.expiresAt = Date.now() + lifetimeMs();
    sendJson(res, 200, listing(ch, rejected));
  };
  sim.route('POST', '/api/v2/notifications/channels/:id/subscriptions', subscribe(false));
  sim.route('PUT', '/api/v2/notifications/channels/:id/subscriptions', subscribe(true));
  sim.route('DELETE', '/api/v2/notifications/channels/:id/subscriptions', (req, res, ctx) => {
    const ch = ownChannel(req, ctx.params.id);
    if (!ch) return notFound(res, ctx.params.id);
    ch.topics.clear();
    res.writeHead(204);
    res.end();
  });

  sim.upgrade('/channels/', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const id = decodeURIComponent((req.url || '').split('?')[0].slice('/channels/'.length));
    const ch = channels.get(id);
    const now = Date.now();
    const blocked = blocks.some((b) => b.until > now && (!b.channelId || b.channelId === id));
    if (blocked || !alive(ch)) {
      socket.end(blocked ? 'HTTP/1.1 503 Service Unavailable\r\n\r\n' : 'HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ch, ws));
  });

  function attach(ch: SimChannel, ws: WebSocket): void {
    if (!channels.has(ch.id)) { ws.terminate(); return; }
    // One socket per channel: a second connection kicks the first.
    if (ch.socket) { state.counts.kicked++; closeSocket(ch, 4000, 'replaced by a newer connection'); }
    ch.socket = ws;
    ch.stalled = false;
    ch.lastUsedAt = Date.now();
    state.counts.connections++;
    heartbeat.set(ws, setInterval(() => {
      if (send(ws, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } })) state.counts.heartbeats++;
    }, sim.opts.heartbeatMs));
    ws.on('message', (data) => {
      let msg: { message?: unknown } | undefined;
      try { msg = JSON.parse(data.toString()); } catch { return; }
      if (msg && msg.message === 'ping') {
        state.counts.pings++;
        if (!ch.stalled) send(ws, { topicName: 'channel.metadata', eventBody: { message: 'pong' } });
      }
    });
    ws.on('close', () => { stopHeartbeat(ws); if (ch.socket === ws) ch.socket = null; });
    ws.on('error', () => { /* a reset socket is just closed */ });
  }

  function deliver(change: ConversationChange): void {
    const c = change.conversation;
    const topics = topicsForConversation(c);
    const body = renderQueueConversationEvent(c, sim.mode === 'guide');
    const flags: DeliveryFlags = change.delivery ?? {};
    let subscribed = false;
    let delivered = false;
    for (const ch of channels.values()) {
      for (const topic of topics) {
        if (!ch.topics.has(topic) || !alive(ch)) continue;
        subscribed = true;
        if (!ch.socket || ch.stalled) { state.counts.lost++; continue; }
        const env: NotificationEnvelope<QueueConversationEvent> = { topicName: topic, version: '2', eventBody: body, metadata: { CorrelationId: randomUUID() } };
        const frame = flags.malformed ? JSON.stringify(env).slice(0, 60) : JSON.stringify(env);
        if (send(ch.socket, frame)) { delivered = true; state.counts.delivered++; }
        if (flags.duplicate) send(ch.socket, frame);
      }
    }
    if (!subscribed) return;
    sim.ledger.record({
      path: 'notification', eventId: `${c.id}:${c.seq}`, conversationId: c.id, seq: c.seq, delivered, payload: body,
      ...(flags.malformed ? { malformed: true } : {}),
    });
  }
  sim.world.on('change', (change: ConversationChange) => {
    if (change.delivery?.delayMs) later(change.delivery.delayMs, () => deliver(change));
    else deliver(change);
  });

  // Expired channels are swept so that their sockets close even when nobody asks for them.
  const sweep = setInterval(() => { for (const ch of [...channels.values()]) alive(ch); }, 250);
  sweep.unref();

  sim.onStop(async () => {
    clearInterval(sweep);
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const ch of channels.values()) closeSocket(ch, 1001, 'simulator stopping');
    channels.clear();
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
