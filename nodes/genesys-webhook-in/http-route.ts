// Where a webhook node listens: its own POST route on RED.httpNode (Express; no body parser runs for
// a route we add ourselves, so the raw request stream is ours), or a dedicated node:http listener.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Paths mounted by webhook nodes in this process: two nodes on one path would steal each other's events. */
const mounted = new Map<string, string>();

/**
 * Paths whose node stopped for a redeploy: they answer 503 + Retry-After until the next node mounts
 * them, because a 404 in between is final for the sender (guide 000 retries only 429 and 5xx).
 */
const placeholders = new Map<string, () => void>();

export interface Listener {
  /** Where it listens, for status and logs (never holds secrets). */
  readonly description: string;
  /** keepPath: the node stops but stays in the flows (a redeploy): the path answers 503 until it is back. */
  close(keepPath?: boolean): Promise<void>;
}

/** Ends the 503 answers of paths no node took back (called when a deploy started its flows, or the runtime stopped). */
export function dropPlaceholders(): void {
  for (const remove of placeholders.values()) remove();
  placeholders.clear();
}

function unavailable(_req: http.IncomingMessage, res: http.ServerResponse): void {
  if (res.headersSent) return;
  const body = '{"error":"retry later"}';
  res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'retry-after': '1' });
  res.end(body);
}

/**
 * A path of the previous run, before its node started (a cold start): 503 + Retry-After until a node
 * takes it or the flows have started (then dropPlaceholders ends it, as after a redeploy).
 */
export function holdPathUntilFlowsStart(httpNode: any, path: string): void {
  const key = `POST ${path.toLowerCase()}`;
  if (mounted.has(key) || placeholders.has(key)) return;
  void mountOnHttpNode(httpNode, path, '(previous run)', unavailable).close(true);
}

export interface MountOptions {
  /** settings.httpNodeMiddleware: runs before the handler (then the route is an ordinary one). */
  middleware?: unknown;
  /** settings.httpNodeAuth is set: requests must pass it (then the route is an ordinary one). */
  auth?: boolean;
}

/** The top Express app: httpNode is mounted in Node-RED's root app (below the editor's app). */
function rootApp(app: any): any {
  return app.parent ? rootApp(app.parent) : app;
}

/**
 * Mounts handler as POST `path` on httpNode.
 * Fast path (no httpNodeMiddleware, no httpNodeAuth): the handler becomes the first layer of the root
 * app, as core http-in does with its raw-body capture. This matters for correctness, not only speed:
 * with the editor on the same root (httpAdminRoot "/", the default) every request first passes the
 * editor's app, whose global JSON body parser would consume a webhook body before httpNode sees it.
 * Otherwise it is an ordinary httpNode route after the middleware (the receiver then copes with a body
 * that a parser upstream already read). close() takes it out again.
 */
export function mountOnHttpNode(httpNode: any, path: string, nodeId: string, handler: Handler, opts: MountOptions = {}): Listener {
  const key = `POST ${path.toLowerCase()}`;
  const owner = mounted.get(key);
  if (owner && owner !== nodeId) throw new Error(`path ${path} is already used by webhook node ${owner}`);
  mounted.set(key, nodeId);
  placeholders.get(key)?.();
  placeholders.delete(key);
  const chain = Array.isArray(opts.middleware) ? opts.middleware : typeof opts.middleware === 'function' ? [opts.middleware] : [];
  const stackOf = (app: any): any[] | undefined => app._router?.stack ?? app.router?.stack;
  let target: Handler = handler;
  const route = (req: http.IncomingMessage, res: http.ServerResponse) => target(req, res);
  let fast: ((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void) | null = null;
  let app = httpNode;
  if (chain.length === 0 && !opts.auth) {
    app = rootApp(httpNode);
    const mount = app === httpNode ? '' : String(httpNode.path?.() ?? '');
    const wanted = `${mount}/${path}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1').toLowerCase();
    // Express matching: case-insensitive, optional trailing slash, query ignored.
    fast = (req, res, next) => {
      if (req.method !== 'POST') { next(); return; }
      const url = req.url || '';
      const q = url.indexOf('?');
      let p = (q === -1 ? url : url.slice(0, q)).toLowerCase();
      if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
      if (p === wanted) target(req, res);
      else next();
    };
    app.use(fast);
    const stack = stackOf(app);
    const i = stack ? stack.findIndex((l: any) => l.handle === fast) : -1;
    if (stack && i > 0) stack.unshift(stack.splice(i, 1)[0]);
  } else {
    httpNode.post(path, ...chain, route);
  }
  const remove = (): void => {
    const stack = stackOf(app) ?? [];
    for (let i = stack.length - 1; i >= 0; i--) {
      const layer = stack[i];
      if ((fast && layer.handle === fast) || (layer.route?.stack ?? []).some((l: any) => l.handle === route)) stack.splice(i, 1);
    }
  };
  return {
    description: path,
    async close(keepPath = false) {
      if (mounted.get(key) !== nodeId) { remove(); return; }
      mounted.delete(key);
      if (!keepPath) { remove(); return; }
      target = unavailable;
      placeholders.set(key, remove);
    },
  };
}

export interface DedicatedOptions {
  /** Headers must arrive within this time (slow senders), ms. Default 20 000. */
  headersTimeoutMs?: number;
  /** The receiver's own body deadline, ms; the server's whole-request limit is a little above it. Default 15 000. */
  bodyTimeoutMs?: number;
}

/** A node:http server of its own (no Express), for rates above what RED.httpNode serves. */
export async function listenDedicated(port: number, host: string, path: string, handler: Handler, opts: DedicatedOptions = {}): Promise<Listener & { port: number }> {
  const headersTimeout = opts.headersTimeoutMs ?? 20_000;
  const requestTimeout = headersTimeout + (opts.bodyTimeoutMs ?? 15_000) + 5_000;
  // Node's defaults (60 s for headers, 300 s per request, checked every 30 s) let slow senders hold
  // sockets for minutes; these bound every connection, checked often enough to matter.
  const server = http.createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout / 2) }, (req, res) => {
    const q = req.url?.indexOf('?') ?? -1;
    const p = q === -1 ? req.url : req.url!.slice(0, q);
    if (p !== path) { res.writeHead(404, { 'content-length': 0 }).end(); return; }
    if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST', 'content-length': 0 }).end(); return; }
    handler(req, res);
  });
  server.keepAliveTimeout = 65000; // longer than typical load balancer idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => { server.off('error', reject); resolve(); });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    description: `${host || '*'}:${actual}${path}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    }),
  };
}
