// The Genesys Cloud simulator: one HTTP server (plus WebSocket upgrades) on loopback that serves
// the login host and the API host alike (a custom base URL in genesys-config points at it).
// Each protocol lives in simulator/routes/<name>.ts and registers its routes here.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConversationWorld } from './world';
import { Ledger } from './ledger';
import { registerRoutes } from './routes';

/** 'platform': behave like real Genesys Cloud (default). 'guide': behave as the guides describe. */
export type SimulatorMode = 'platform' | 'guide';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  mode?: SimulatorMode;
  /** OAuth clients accepted by POST /oauth/token (lifetime per client, as on the platform). Default: DEFAULT_CLIENT. */
  clients?: { id: string; secret: string; tokenLifetimeSeconds?: number }[];
  /** Access token lifetime in seconds (the platform allows 300 to 172800). Default 86399. */
  tokenLifetimeSeconds?: number;
  /** Notification channel lifetime in seconds (24 h on the platform). */
  channelLifetimeSeconds?: number;
  /** Server heartbeat interval on notification sockets, ms (about 30 s on the platform). */
  heartbeatMs?: number;
  /** API requests allowed per token per window (the platform: 300 per minute). 0 turns the limit off. */
  rateLimitPerMinute?: number;
  /** Length of the rate-limit window, ms (60 000 on the platform; tests shorten it). */
  rateLimitWindowMs?: number;
  /** Path prefixes the per-token limit skips: the guides' own endpoints that document their own limits. */
  rateLimitExempt?: string[];
}

export const DEFAULT_CLIENT = { id: 'sim-client-id', secret: 'sim-client-secret' };

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RouteContext) => void | Promise<void>;

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (or the raw text when not JSON, or undefined when empty). */
  body: any;
  rawBody: Buffer;
}

export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Route { method: string; pattern: RegExp; keys: string[]; handler: RouteHandler; auth: boolean }

/** Fault injection shared by all routes: a test sets these and the next requests feel them. */
export interface Faults {
  /** Answer the next N requests matching the prefix with this status (and Retry-After seconds for 429). */
  queue: { pathPrefix: string; status: number; count: number; retryAfter?: number; body?: unknown }[];
  /** Delay every answer on paths with this prefix by ms. */
  delays: { pathPrefix: string; ms: number }[];
}

export class GenesysSimulator extends EventEmitter {
  readonly opts: Required<Omit<SimulatorOptions, 'port' | 'host'>> & { port: number; host: string };
  readonly world = new ConversationWorld();
  readonly ledger = new Ledger();
  readonly faults: Faults = { queue: [], delays: [] };
  /** Requests served, by "METHOD path-pattern", for tests that count calls. */
  readonly requestCounts = new Map<string, number>();
  /** Valid access tokens → expiry (ms since epoch). Owned by routes/oauth.ts. */
  readonly tokens = new Map<string, { expiresAt: number; clientId: string }>();
  /** Per-module state, keyed by module name. */
  readonly state: Record<string, any> = {};
  private readonly routes: Route[] = [];
  private readonly upgrades: { prefix: string; handler: UpgradeHandler }[] = [];
  private readonly closers: (() => void | Promise<void>)[] = [];
  private server: http.Server | null = null;
  private readonly sockets = new Set<Duplex>();
  /** Per-token fixed rate-limit windows. */
  private readonly rateWindows = new Map<string, { count: number; resetAt: number }>();

  constructor(opts: SimulatorOptions = {}) {
    super();
    this.opts = {
      port: opts.port ?? 0,
      host: opts.host ?? '127.0.0.1',
      mode: opts.mode ?? 'platform',
      clients: opts.clients ?? [DEFAULT_CLIENT],
      tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 86399,
      channelLifetimeSeconds: opts.channelLifetimeSeconds ?? 86400,
      heartbeatMs: opts.heartbeatMs ?? 30000,
      rateLimitPerMinute: opts.rateLimitPerMinute ?? 300,
      rateLimitWindowMs: opts.rateLimitWindowMs ?? 60_000,
      rateLimitExempt: opts.rateLimitExempt ?? ['/api/v2/eventstreams/', '/api/v2/events/'],
    };
    registerRoutes(this);
  }

  get mode(): SimulatorMode { return this.opts.mode; }
  set mode(m: SimulatorMode) { this.opts.mode = m; }

  /** http://127.0.0.1:<port> — serves both the login and the API host. */
  get baseUrl(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('simulator not started');
    return `http://${this.opts.host}:${addr.port}`;
  }

  get wsBaseUrl(): string { return this.baseUrl.replace(/^http/, 'ws'); }

  /** Registers a route; `:name` segments become ctx.params. auth=true requires a valid bearer token. */
  route(method: string, path: string, handler: RouteHandler, auth = true): void {
    const keys: string[] = [];
    const pattern = new RegExp('^' + path.replace(/:([a-zA-Z]+)/g, (_, k) => { keys.push(k); return '([^/]+)'; }) + '$');
    this.routes.push({ method, pattern, keys, handler, auth });
  }

  /** Registers a WebSocket upgrade handler for paths starting with prefix. */
  upgrade(prefix: string, handler: UpgradeHandler): void {
    this.upgrades.push({ prefix, handler });
  }

  /** Registers cleanup to run on stop() (timers, WebSocket servers). */
  onStop(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  /** The token from an Authorization header if it is valid now, else null. */
  checkToken(req: http.IncomingMessage): string | null {
    const h = req.headers.authorization || '';
    const m = /^Bearer (.+)$/i.exec(h);
    if (!m) return null;
    const t = this.tokens.get(m[1]);
    if (!t || t.expiresAt <= Date.now()) return null;
    return m[1];
  }

  /** Makes every issued token invalid at once (a test's "token revoked" / 401 mid-run). */
  revokeAllTokens(): void {
    this.tokens.clear();
    this.rateWindows.clear();
  }

  /** Changes the per-token API rate limit (0 = off); running windows restart. */
  setRateLimit(perWindow: number, windowMs = this.opts.rateLimitWindowMs): void {
    this.opts.rateLimitPerMinute = perWindow;
    this.opts.rateLimitWindowMs = windowMs;
    this.rateWindows.clear();
  }

  /** Delays every answer on paths starting with pathPrefix by ms until the returned function is called. */
  injectDelay(pathPrefix: string, ms: number): () => void {
    const d = { pathPrefix, ms };
    this.faults.delays.push(d);
    return () => { const i = this.faults.delays.indexOf(d); if (i >= 0) this.faults.delays.splice(i, 1); };
  }

  /** Queues a fault: the next `count` requests whose path starts with pathPrefix get `status`. */
  injectFault(pathPrefix: string, status: number, count = 1, retryAfter?: number, body?: unknown): void {
    this.faults.queue.push({ pathPrefix, status, count, retryAfter, body });
  }

  count(key: string): number {
    return this.requestCounts.get(key) ?? 0;
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => { void this.dispatch(req, res); });
    server.on('upgrade', (req, socket, head) => {
      const path = (req.url || '').split('?')[0];
      const up = this.upgrades.find((u) => path.startsWith(u.prefix));
      if (!up) { socket.end('HTTP/1.1 404 Not Found\r\n\r\n'); return; }
      up.handler(req, socket, head);
    });
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const fn of this.closers.splice(0)) await fn();
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url || '/', 'http://sim');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    try {
      const delay = this.faults.delays.find((d) => url.pathname.startsWith(d.pathPrefix));
      if (delay) await new Promise((r) => setTimeout(r, delay.ms));
      const fault = this.faults.queue.find((f) => f.count > 0 && url.pathname.startsWith(f.pathPrefix));
      if (fault) {
        fault.count--;
        if (fault.count <= 0) this.faults.queue.splice(this.faults.queue.indexOf(fault), 1);
        this.tally(`${req.method} ${url.pathname}`);
        const headers: Record<string, string> = {};
        if (fault.status === 429) headers['retry-after'] = String(fault.retryAfter ?? 1);
        sendJson(res, fault.status, fault.body ?? faultBody(fault.status, fault.retryAfter), headers);
        return;
      }
      for (const r of this.routes) {
        if (r.method !== req.method) continue;
        const m = r.pattern.exec(url.pathname);
        if (!m) continue;
        this.tally(`${r.method} ${r.pattern.source}`);
        this.tally(`${req.method} ${url.pathname}`);
        const token = r.auth ? this.checkToken(req) : null;
        if (r.auth && !token) {
          sendJson(res, 401, { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401 });
          return;
        }
        if (token && !this.withinRateLimit(token, url.pathname, res)) return;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
        let body: any;
        if (rawBody.length) {
          const text = rawBody.toString('utf8');
          try { body = JSON.parse(text); } catch { body = text; }
        }
        await r.handler(req, res, { params, query: url.searchParams, body, rawBody });
        return;
      }
      sendJson(res, 404, { message: `no route ${req.method} ${url.pathname}`, code: 'not.found', status: 404 });
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { message: String((err as Error).message), code: 'internal.server.error', status: 500 });
    }
  }

  /** Counts one API request against its token; answers 429 (platform body, Retry-After) when over the limit. */
  private withinRateLimit(token: string, path: string, res: http.ServerResponse): boolean {
    const limit = this.opts.rateLimitPerMinute;
    if (!(limit > 0) || this.opts.rateLimitExempt.some((p) => path.startsWith(p))) return true;
    const now = Date.now();
    let w = this.rateWindows.get(token);
    if (!w || now >= w.resetAt) {
      if (this.rateWindows.size > 10_000) for (const [t, old] of this.rateWindows) if (now >= old.resetAt) this.rateWindows.delete(t);
      w = { count: 0, resetAt: now + this.opts.rateLimitWindowMs };
      this.rateWindows.set(token, w);
    }
    w.count++;
    const resetSeconds = Math.max(1, Math.ceil((w.resetAt - now) / 1000));
    const headers = {
      'inin-ratelimit-count': String(Math.min(w.count, limit)),
      'inin-ratelimit-allowed': String(limit),
      'inin-ratelimit-reset': String(resetSeconds),
    };
    if (w.count > limit) {
      this.tally(`429 ${path}`);
      sendJson(res, 429, faultBody(429, resetSeconds), { ...headers, 'retry-after': String(resetSeconds) });
      return false;
    }
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    return true;
  }

  private tally(key: string): void {
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
  }
}

/** Genesys-style error bodies (see ../shared/GENESYS-API.md). */
export function faultBody(status: number, retryAfter?: number): unknown {
  if (status === 429) {
    return { message: `Rate limit exceeded the maximum. Retry the request in [${retryAfter ?? 1}] seconds`, code: 'too.many.requests.retry.after', status: 429 };
  }
  if (status === 401) return { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401 };
  return { message: `simulated ${status}`, code: status >= 500 ? 'internal.server.error' : 'bad.request', status };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
