// Simulator: the realtime analytics WebSocket of guide 004 (wss://api.{env}/api/v2/analytics/realtime
// ?access_token=…). The real platform has no such socket; the simulator serves the guide's protocol:
// token in the query (401 on the handshake when invalid), one subscribe message
// {type:'conversation', filters:{queueIds?, userIds?, mediaTypes?}}, then conversation:start|update|end
// events for the world's changes that match. No durability, like every platform socket: changes
// published while no subscriber is connected are lost (recorded in the ledger as delivered:false).
//
// Test hooks on sim.state.analytics: dropAll(), rejectNext(n, status), stall(), subscriptions, connections.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { AnalyticsEventMessage, AnalyticsSubscribe, MediaType } from '../../lib/genesys/shapes';
import type { GenesysSimulator } from '../server';
import type { ConversationChange, SimConversation } from '../world';

export const ANALYTICS_PATH = '/api/v2/analytics/realtime';
const MEDIA: readonly MediaType[] = ['voice', 'chat', 'email', 'sms'];

type Filters = NonNullable<AnalyticsSubscribe['filters']>;

interface Subscriber { ws: WebSocket; filters: Filters | null }

export interface AnalyticsSocketState {
  /** Every valid subscribe message received, in order (tests assert the client's filters). */
  subscriptions: AnalyticsSubscribe[];
  /** Handshakes accepted so far. */
  connections: number;
  /** Handshakes refused so far (bad token or rejectNext). */
  rejected: number;
  /** Open sockets right now. */
  readonly openSockets: number;
  /** Abruptly cuts every open socket (a network drop: the client sees close code 1006). */
  dropAll(): void;
  /** Refuses the next n handshakes with this HTTP status (default 503). */
  rejectNext(n: number, status?: number): void;
  /** Stops reading from and writing to every open socket (half-open connection: no pongs, no events). */
  stall(): void;
}

export function registerAnalyticsSocket(sim: GenesysSimulator): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const subscribers = new Set<Subscriber>();
  const timers = new Set<NodeJS.Timeout>();
  const stalled = new WeakSet<WebSocket>();
  let rejectCount = 0;
  let rejectStatus = 503;
  let everConnected = false;
  // Filters of the subscribers at the last subscribe: what a gap without subscribers would have delivered.
  let lostFilters: Filters[] = [];

  const state: AnalyticsSocketState = {
    subscriptions: [],
    connections: 0,
    rejected: 0,
    get openSockets() { return subscribers.size; },
    dropAll() { for (const s of subscribers) s.ws.terminate(); },
    rejectNext(n, status = 503) { rejectCount = n; rejectStatus = status; },
    stall() {
      for (const s of subscribers) {
        stalled.add(s.ws);
        // Pausing the TCP socket means the ws library never sees pings, so it never answers pongs.
        (s.ws as unknown as { _socket: Duplex })._socket.pause();
      }
    },
  };
  sim.state.analytics = state;

  sim.upgrade(ANALYTICS_PATH, (req, socket, head) => {
    const url = new URL(req.url || '/', 'http://sim');
    if (url.pathname !== ANALYTICS_PATH) return refuse(socket, 404, { message: 'not found', code: 'not.found', status: 404 });
    if (!validToken(sim, url.searchParams.get('access_token'))) {
      state.rejected++;
      return refuse(socket, 401, { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401 });
    }
    if (rejectCount > 0) {
      rejectCount--;
      state.rejected++;
      return refuse(socket, rejectStatus, { message: `simulated ${rejectStatus}`, code: 'service.unavailable', status: rejectStatus });
    }
    wss.handleUpgrade(req as http.IncomingMessage, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    state.connections++;
    everConnected = true;
    const sub: Subscriber = { ws, filters: null };
    subscribers.add(sub);
    ws.on('message', (data) => onSubscribe(sub, data.toString()));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => subscribers.delete(sub));
  }

  function onSubscribe(sub: Subscriber, text: string): void {
    let msg: unknown;
    try { msg = JSON.parse(text); } catch { return sendError(sub.ws, 'bad.request', 'subscribe message is not valid JSON'); }
    const problem = checkSubscribe(msg);
    if (problem) return sendError(sub.ws, 'bad.request', problem);
    const s = msg as AnalyticsSubscribe;
    sub.filters = s.filters ?? {};
    state.subscriptions.push(s);
    lostFilters = [...subscribers].map((x) => x.filters).filter((f): f is Filters => !!f);
    send(sub.ws, JSON.stringify({ type: 'info', message: 'subscribed', subscription: s }));
  }

  const onChange = (change: ConversationChange): void => {
    // Costs nothing while the path is unused (benchmarks of the other paths).
    if (!everConnected) return;
    const delay = change.delivery?.delayMs;
    if (delay && delay > 0) {
      // Out of order: held back so later changes of the same conversation overtake it.
      const t = setTimeout(() => { timers.delete(t); deliver(change); }, delay);
      timers.add(t);
    } else deliver(change);
  };
  sim.world.on('change', onChange);

  function deliver(change: ConversationChange): void {
    const c = change.conversation;
    const malformed = !!change.delivery?.malformed;
    let text: string | null = null;
    let delivered = false;
    let matched = false;
    for (const sub of subscribers) {
      if (!sub.filters || !matches(sub.filters, c)) continue;
      matched = true;
      if (stalled.has(sub.ws) || sub.ws.readyState !== WebSocket.OPEN) continue;
      text ??= malformed ? malformedText(change) : JSON.stringify(renderEvent(change));
      sub.ws.send(text);
      if (change.delivery?.duplicate) sub.ws.send(text);
      delivered = true;
    }
    // Only once the path is in use: a simulator nobody listens to on this socket records nothing here.
    if (!everConnected) return;
    if (!matched && !lostFilters.some((f) => matches(f, c))) return;
    sim.ledger.record({
      path: 'analytics-ws', eventId: `${c.id}:${c.seq}`, conversationId: c.id, seq: c.seq, delivered,
      ...(malformed ? { malformed: true, payload: text ?? malformedText(change) } : {}),
    });
  }

  sim.onStop(async () => {
    sim.world.off('change', onChange);
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const s of subscribers) s.ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}

/** The guide's event message for one world change (AnalyticsEventMessage; drift fields ride along in data). */
export function renderEvent(change: ConversationChange): AnalyticsEventMessage {
  const c = change.conversation;
  const at = Date.parse(change.at);
  const ended = c.state === 'ended';
  const participants: AnalyticsEventMessage['data']['participants'] = [
    { id: `customer-${c.id.slice(0, 8)}`, role: 'customer', state: ended || c.state === 'wrapup' ? 'disconnected' : c.state === 'held' ? 'held' : 'connected', name: c.customerAddress },
    { id: c.queueId, role: 'acd', state: c.state === 'queued' || c.state === 'alerting' ? 'connected' : 'disconnected', name: c.queueName },
  ];
  if (c.agentId) participants.push({ id: c.agentId, role: 'agent', state: ended ? 'disconnected' : c.state === 'queued' ? 'disconnected' : c.state, name: c.agentName });
  return {
    type: 'event',
    eventType: `conversation:${change.kind}`,
    timestamp: change.at,
    data: {
      ...(c.drift ?? {}),
      conversationId: c.id,
      type: c.mediaType,
      state: ended ? 'ended' : 'active',
      queueId: c.queueId,
      participants,
      metrics: metrics(c, at),
      sequence: c.seq,
    },
  };
}

function metrics(c: SimConversation, at: number): { waitTime: number; talkTime: number; wrapUpTime: number } {
  const t = (iso?: string) => (iso ? Date.parse(iso) : NaN);
  const start = t(c.startTime);
  const connected = t(c.connectedTime);
  const wrap = t(c.wrapupStartTime);
  const end = t(c.endTime);
  const until = (x: number) => (Number.isNaN(x) ? at : x);
  const span = (a: number, b: number) => (Number.isNaN(a) ? 0 : Math.max(0, b - a));
  return {
    waitTime: span(start, Number.isNaN(connected) ? until(end) : connected),
    talkTime: span(connected, Number.isNaN(wrap) ? until(end) : wrap),
    wrapUpTime: span(wrap, until(end)),
  };
}

/** A truncated JSON document that still shows which event it was (so a DLQ record can be matched). */
function malformedText(change: ConversationChange): string {
  const c = change.conversation;
  return `{"type":"event","eventType":"conversation:${change.kind}","timestamp":"${change.at}","data":{"conversationId":"${c.id}","sequence":${c.seq},"type":`;
}

function matches(f: Filters, c: Readonly<SimConversation>): boolean {
  if (f.queueIds?.length && !f.queueIds.includes(c.queueId)) return false;
  if (f.userIds?.length && (!c.agentId || !f.userIds.includes(c.agentId))) return false;
  if (f.mediaTypes?.length && !f.mediaTypes.includes(c.mediaType)) return false;
  return true;
}

function checkSubscribe(msg: unknown): string | null {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return 'subscribe message must be an object';
  const m = msg as Record<string, unknown>;
  if (m.type !== 'conversation') return `unsupported subscription type ${JSON.stringify(m.type)}: the simulator serves 'conversation'`;
  if (m.filters === undefined) return null;
  if (!m.filters || typeof m.filters !== 'object' || Array.isArray(m.filters)) return 'filters must be an object';
  const f = m.filters as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (!['queueIds', 'userIds', 'mediaTypes'].includes(k)) return `unknown filter ${k}`;
    const v = f[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return `filters.${k} must be an array of strings`;
  }
  const bad = (f.mediaTypes as string[] | undefined)?.find((x) => !MEDIA.includes(x as MediaType));
  return bad ? `unknown media type ${bad}` : null;
}

function validToken(sim: GenesysSimulator, token: string | null): boolean {
  const t = token ? sim.tokens.get(token) : undefined;
  return !!t && t.expiresAt > Date.now();
}

function sendError(ws: WebSocket, code: string, message: string): void {
  send(ws, JSON.stringify({ type: 'error', code, message }));
}

function send(ws: WebSocket, text: string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(text);
}

function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : status === 429 ? 'Too Many Requests' : 'Service Unavailable';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
