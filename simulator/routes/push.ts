// Simulator: push registration and signed delivery, guide 000 (Genesys Cloud has no such endpoint;
// see ../shared/GENESYS-API.md: real orgs push through EventBridge or Process Automation).
//   POST /api/v2/notifications          register {name, resource, filter, target, retry, security, audience?, batchSize?, concurrency?}
//   GET  /api/v2/notifications          list;  GET|PUT|DELETE /api/v2/notifications/{id}
// Every world change that passes a registration's filter becomes a PushNotification, POSTed to the
// target with "Authorization: Bearer <HS256 JWT>" (iss genesys-cloud, aud = registration audience),
// in batches (an array) when batchSize > 1. Retries follow the registration exactly: 429 and 5xx and
// transport errors are retried with exponential backoff (Retry-After wins when sent), other 4xx are not.
// Ledger: one entry per event (path 'push'), delivered once a 2xx came back, false after giving up.
// Test hooks: sim.state.push (PushState below).
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { PushNotification, RealtimeInteraction } from '../../lib/genesys/shapes';
import { compileFilter } from '../../lib/ingest/filter';
import { signHs256 } from '../../lib/ingest/jwt';
import { validateRegistration as validate, type PushRegistration } from '../../lib/ingest/push-registration';
import { decodeSecret } from '../../lib/ingest/secrets';
import type { GenesysSimulator } from '../server';
import { sendJson } from '../server';
import type { ConversationChange, SimConversation } from '../world';

export type { PushRegistration };

export interface PushAttempt { registrationId: string; events: number; attempt: number; status: number | 'error'; at: number; retryInMs?: number }

interface QueuedEvent { notification: PushNotification; track: { copies: number; delivered: boolean; malformed: boolean; conversationId: string } }

export interface PushState {
  registrations: Map<string, PushRegistration>;
  stats: { posts: number; events: number; retries: number; delivered: number; failed: number };
  /** Last attempts, oldest first (bounded), for retry-timing tests. */
  attempts: PushAttempt[];
  /** Events queued, delayed or in flight across registrations. */
  pending(): number;
  /** Resolves when nothing is pending (rejects after timeoutMs). */
  idle(timeoutMs?: number): Promise<void>;
}

const ISSUER = 'genesys-cloud';
const MAX_ATTEMPT_LOG = 5000;

class PushSender {
  private queue: QueuedEvent[] = [];
  private head = 0;
  private inflight = 0;
  private delayed = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private token = { value: '', renewAt: 0 };
  private readonly agent: http.Agent;
  private stopped = false;
  private pumpScheduled = false;
  matches: (e: Record<string, any>) => boolean;

  constructor(public reg: PushRegistration, private readonly sim: GenesysSimulator, private readonly state: PushState) {
    this.matches = compileFilter(reg.filter);
    const Agent = reg.target.url.startsWith('https:') ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: reg.concurrency });
  }

  get pending(): number { return this.queue.length - this.head + this.inflight + this.delayed; }

  update(reg: PushRegistration): void {
    this.reg = reg;
    this.matches = compileFilter(reg.filter);
    this.token.renewAt = 0;
    this.pump();
  }

  offer(n: PushNotification, change: ConversationChange): void {
    const flags = change.delivery ?? {};
    const track = { copies: flags.duplicate ? 2 : 1, delivered: false, malformed: !!flags.malformed, conversationId: change.conversation.id };
    const add = () => {
      for (let i = 0; i < track.copies; i++) this.queue.push({ notification: n, track });
      this.schedulePump();
    };
    if (flags.delayMs && flags.delayMs > 0) {
      this.delayed++;
      this.later(flags.delayMs, () => { this.delayed--; add(); });
    } else add();
  }

  /** Deleted or simulator stopping: queued events are given up (the ledger says so). */
  stop(recordAbandoned: boolean): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.delayed = 0;
    if (recordAbandoned) for (const q of rest) this.settle(q, false);
    this.agent.destroy();
  }

  /** Batches fill while the current burst of world changes is published, then go out together. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    const run = () => { this.pumpScheduled = false; this.pump(); };
    if (this.reg.lingerMs > 0 && this.queue.length - this.head < this.reg.batchSize) this.later(this.reg.lingerMs, run);
    else setImmediate(run);
  }

  private pump(): void {
    while (!this.stopped && this.inflight < this.reg.concurrency && this.head < this.queue.length) {
      const batch = this.queue.slice(this.head, this.head + this.reg.batchSize);
      this.head += batch.length;
      if (this.head > 4096 && this.head * 2 > this.queue.length) { this.queue = this.queue.slice(this.head); this.head = 0; }
      this.inflight++;
      this.send(batch, 1);
    }
  }

  private send(batch: QueuedEvent[], attempt: number): void {
    const reg = this.reg;
    const items = batch.map((q) => ({ ...q.notification, metadata: { ...q.notification.metadata, deliveryAttempt: attempt } }));
    const body = JSON.stringify(reg.batchSize > 1 ? items : items[0]);
    this.state.stats.posts++;
    if (attempt > 1) this.state.stats.retries++;
    this.post(body, (status, retryAfterMs) => {
      if (this.stopped) return;
      const ok = typeof status === 'number' && status >= 200 && status < 300;
      const retryable = status === 'error' || status === 429 || status >= 500;
      const log: PushAttempt = { registrationId: reg.id, events: batch.length, attempt, status, at: Date.now() };
      if (!ok && retryable && attempt <= reg.retry.maxRetries) {
        const backoff = Math.min(reg.retry.maxDelayMs, reg.retry.initialDelayMs * reg.retry.backoffMultiplier ** (attempt - 1));
        log.retryInMs = retryAfterMs ?? backoff;
        this.logAttempt(log);
        this.later(log.retryInMs, () => this.send(batch, attempt + 1));
        return;
      }
      this.logAttempt(log);
      for (const q of batch) this.settle(q, ok);
      this.inflight--;
      this.pump();
    });
  }

  private post(body: string, done: (status: number | 'error', retryAfterMs?: number) => void): void {
    const url = new URL(this.reg.target.url);
    const lib = url.protocol === 'https:' ? https : http;
    let finished = false;
    const finish = (s: number | 'error', ra?: number) => { if (!finished) { finished = true; done(s, ra); } };
    const req = lib.request(url, {
      method: this.reg.target.method,
      agent: this.agent,
      timeout: this.reg.timeoutMs,
      headers: { authorization: `Bearer ${this.bearer()}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'genesys-cloud-simulator' },
    }, (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode ?? 0, parseRetryAfter(res.headers['retry-after'])));
      res.on('error', () => finish('error'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish('error'));
    req.end(body);
  }

  private bearer(): string {
    const now = Date.now();
    if (now >= this.token.renewAt) {
      const iat = Math.floor(now / 1000);
      const ttl = this.reg.tokenTtlSeconds;
      const key = decodeSecret(this.reg.security.signingSecret, this.reg.security.secretEncoding ?? 'text');
      this.token.value = signHs256({ iss: ISSUER, aud: this.reg.audience, sub: this.reg.id, jti: randomUUID(), iat, exp: iat + ttl }, key);
      this.token.renewAt = now + (ttl * 1000) / 2;
    }
    return this.token.value;
  }

  private settle(q: QueuedEvent, delivered: boolean): void {
    const t = q.track;
    t.delivered ||= delivered;
    if (--t.copies > 0) return;
    if (t.delivered) this.state.stats.delivered++; else this.state.stats.failed++;
    const n = q.notification;
    this.sim.ledger.record({
      path: 'push', eventId: n.metadata.eventId, conversationId: t.conversationId,
      seq: n.metadata.sequence, delivered: t.delivered, payload: n, ...(t.malformed ? { malformed: true } : {}),
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.stopped) fn(); }, ms);
    this.timers.add(t);
  }

  private logAttempt(a: PushAttempt): void {
    this.state.attempts.push(a);
    if (this.state.attempts.length > MAX_ATTEMPT_LOG) this.state.attempts.splice(0, this.state.attempts.length - MAX_ATTEMPT_LOG);
  }
}

function parseRetryAfter(h: string | undefined): number | undefined {
  if (!h) return undefined;
  if (/^\d+(\.\d+)?$/.test(h.trim())) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const STATE_NAMES: Record<string, string> = { queued: 'waiting', alerting: 'alerting', connected: 'connected', held: 'held', wrapup: 'wrapup', ended: 'ended' };

/** A conversation change as a realtime:interaction event (the guide's flattened shape). */
export function renderInteraction(c: Readonly<SimConversation>, at: string): RealtimeInteraction {
  const t = (s?: string) => (s ? Date.parse(s) : undefined);
  const now = Date.parse(at);
  const start = t(c.startTime) ?? now;
  const connected = t(c.connectedTime);
  const wrap = t(c.wrapupStartTime);
  const end = t(c.endTime);
  const ev: RealtimeInteraction = {
    ...(c.drift ?? {}),
    conversationId: c.id,
    type: c.mediaType,
    state: STATE_NAMES[c.state] ?? c.state,
    direction: c.direction,
    timestamp: at,
    queue: { id: c.queueId, name: c.queueName },
    agent: c.agentId ? { id: c.agentId, name: c.agentName } : null,
    customer: { channelId: c.customerAddress },
    waitTimeMs: Math.max(0, (connected ?? end ?? now) - start),
  };
  if (connected !== undefined) ev.talkTimeMs = Math.max(0, (wrap ?? end ?? now) - connected);
  if (wrap !== undefined) ev.wrapUpTimeMs = Math.max(0, (end ?? now) - wrap);
  return ev;
}

/** The entity as returned by the API: the signing secret never leaves the simulator. */
function view(reg: PushRegistration): unknown {
  return { ...reg, security: { type: reg.security.type, signingAlgorithm: reg.security.signingAlgorithm }, selfUri: `/api/v2/notifications/${reg.id}` };
}

export function registerPushDelivery(sim: GenesysSimulator): void {
  const senders = new Map<string, PushSender>();
  const idleTimers = new Set<NodeJS.Timeout>();
  const state: PushState = {
    registrations: new Map(),
    stats: { posts: 0, events: 0, retries: 0, delivered: 0, failed: 0 },
    attempts: [],
    pending: () => [...senders.values()].reduce((n, s) => n + s.pending, 0),
    idle: (timeoutMs = 10000) => new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        const left = state.pending();
        if (left > 0 && Date.now() - started <= timeoutMs) return false;
        clearInterval(timer);
        idleTimers.delete(timer);
        if (left === 0) resolve(); else reject(new Error(`push still has ${left} events pending`));
        return true;
      };
      const timer = setInterval(check, 10);
      idleTimers.add(timer);
      check();
    }),
  };
  sim.state.push = state;
  const badRequest = (res: http.ServerResponse, message: string) => sendJson(res, 400, { message, code: 'bad.request', status: 400 });
  const notFound = (res: http.ServerResponse, id: string) => sendJson(res, 404, { message: `notification ${id} not found`, code: 'not.found', status: 404 });

  sim.route('POST', '/api/v2/notifications', (_req, res, ctx) => {
    const v = validate(ctx.body);
    if (!v.ok) { badRequest(res, v.message); return; }
    const reg: PushRegistration = { id: randomUUID(), dateCreated: new Date().toISOString(), ...v.reg };
    state.registrations.set(reg.id, reg);
    senders.set(reg.id, new PushSender(reg, sim, state));
    sendJson(res, 201, view(reg));
  });
  sim.route('GET', '/api/v2/notifications', (_req, res) => {
    const entities = [...state.registrations.values()].map(view);
    sendJson(res, 200, { entities, pageSize: entities.length, pageNumber: 1, total: entities.length });
  });
  sim.route('GET', '/api/v2/notifications/:id', (_req, res, ctx) => {
    const reg = state.registrations.get(ctx.params.id);
    if (!reg) { notFound(res, ctx.params.id); return; }
    sendJson(res, 200, view(reg));
  });
  sim.route('PUT', '/api/v2/notifications/:id', (_req, res, ctx) => {
    const old = state.registrations.get(ctx.params.id);
    if (!old) { notFound(res, ctx.params.id); return; }
    const v = validate(ctx.body);
    if (!v.ok) { badRequest(res, v.message); return; }
    const reg: PushRegistration = { ...v.reg, id: old.id, dateCreated: old.dateCreated };
    state.registrations.set(reg.id, reg);
    senders.get(reg.id)?.update(reg);
    sendJson(res, 200, view(reg));
  });
  sim.route('DELETE', '/api/v2/notifications/:id', (_req, res, ctx) => {
    const id = ctx.params.id;
    if (!state.registrations.delete(id)) { notFound(res, id); return; }
    senders.get(id)?.stop(true);
    senders.delete(id);
    res.writeHead(204).end();
  });

  const onChange = (change: ConversationChange) => {
    if (senders.size === 0) return;
    let data: RealtimeInteraction | undefined;
    for (const sender of senders.values()) {
      data ??= renderInteraction(change.conversation, change.at);
      if (!sender.matches(data)) continue;
      const c = change.conversation;
      const broken = change.delivery?.malformed;
      // A broken rendering keeps its event id (traceable in the ledger) but lacks the fields a schema needs.
      const body = broken ? ({ type: data.type, state: 404, timestamp: 'not-a-date' } as unknown as RealtimeInteraction) : data;
      const notification: PushNotification = {
        data: body,
        metadata: { eventId: `${c.id}:${c.seq}`, sequence: c.seq, subscriptionId: sender.reg.id, publishedAt: change.at },
      };
      state.stats.events++;
      sender.offer(notification, change);
    }
  };
  sim.world.on('change', onChange);
  sim.onStop(() => {
    sim.world.off('change', onChange);
    for (const t of idleTimers) clearInterval(t);
    idleTimers.clear();
    for (const s of senders.values()) s.stop(false);
    senders.clear();
  });
}
