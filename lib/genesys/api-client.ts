// The one small Genesys Cloud REST client every node uses: bearer token from the shared token
// manager, per-request timeouts, 429 with Retry-After (and a shared pause so concurrent callers
// do not all hit the limit), 5xx/network backoff with jitter, 401 → fresh token and one retry.
// Uses Node's global fetch (undici), which keeps connections alive per origin.
import { EventEmitter, setMaxListeners } from 'node:events';
import { GenesysApiError, type ApiRequest, type ApiResponse, type GenesysApi, type TokenProvider } from './types';
import { ReconnectPolicy, type ReconnectOptions } from './reconnect';
import { AbortedError, linkSignals, parseRetryAfter, sleep } from './backoff';

export interface ApiClientOptions {
  /** https://api.{env} or a custom origin; ApiRequest.path is appended. */
  apiBase: string;
  tokens: TokenProvider;
  /** Default per-request timeout (ms). Default 15 000. */
  timeoutMs?: number;
  /** Default 429/5xx/network retries per request. Default 3. */
  maxRetries?: number;
  /** Backoff for 5xx and network errors (and 429 without Retry-After). Default 500 ms doubling to 30 s, jittered. */
  retry?: ReconnectOptions;
  /** Longest Retry-After waited in-line (ms); a longer one fails the request with retryAfterMs set. Default 60 000. */
  maxRetryAfterMs?: number;
  userAgent?: string;
}

export type RateLimit = NonNullable<ApiResponse['rateLimit']>;

export class GenesysApiClient extends EventEmitter implements GenesysApi {
  readonly apiBase: string;
  /** The rate-limit state of the most recent answer that carried one. */
  lastRateLimit: RateLimit | undefined;
  private readonly tokens: TokenProvider;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retry: ReconnectOptions;
  private readonly maxRetryAfterMs: number;
  private readonly userAgent: string;
  /** The limit is per token, so a 429 (or remaining = 0) pauses every request of this client. */
  private pausedUntil = 0;
  private readonly closing = new AbortController();

  constructor(o: ApiClientOptions) {
    super();
    this.apiBase = o.apiBase.replace(/\/+$/, '');
    this.tokens = o.tokens;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.maxRetries = o.maxRetries ?? 3;
    this.retry = { initialMs: 500, maxMs: 30_000, minMs: 100, ...o.retry };
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 60_000;
    this.userAgent = o.userAgent ?? 'node-red-contrib-genesys-cloud-kafka';
    // Every request in flight listens on the close signal; hundreds at once are normal here.
    setMaxListeners(0, this.closing.signal);
  }

  /** Aborts pending requests and waits; later requests reject. */
  close(): void {
    this.closing.abort();
  }

  async request<T = any>(req: ApiRequest): Promise<ApiResponse<T>> {
    const what = `${req.method} ${req.path}`; // never the query: it may carry ids a caller considers private
    const url = this.apiBase + req.path + queryString(req.query);
    const link = linkSignals([this.closing.signal, req.signal]);
    try {
      return await this.attempts<T>(req, url, what, link.signal);
    } finally {
      link.dispose();
    }
  }

  private async attempts<T>(req: ApiRequest, url: string, what: string, waitSignal: AbortSignal): Promise<ApiResponse<T>> {
    const maxRetries = req.maxRetries ?? this.maxRetries;
    const accept = req.acceptStatus ?? [];
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const policy = new ReconnectPolicy(this.retry);
    let retries = 0;
    let refreshed = false;
    for (;;) {
      await this.wait(Math.max(0, this.pausedUntil - Date.now()), waitSignal, what);
      const token = await this.tokens.getToken();
      const attempt = linkSignals([waitSignal], timeoutMs); // the timeout covers reading the body too
      let res: Response;
      try {
        res = await fetch(url, {
          method: req.method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
          signal: attempt.signal,
        });
      } catch (err) {
        attempt.dispose();
        this.throwIfAborted(waitSignal, what);
        const e = err as Error & { cause?: { code?: string } };
        const message = attempt.timedOut()
          ? `Genesys API ${what} timed out after ${timeoutMs} ms`
          : `Genesys API ${what} failed: ${e.cause?.code || e.message}`;
        if (retries >= maxRetries) throw new GenesysApiError(message, 0);
        retries++;
        await this.wait(policy.next(), waitSignal, what);
        continue;
      }
      const headers = headerRecord(res.headers);
      let body: any;
      try {
        body = await readBody(res, req.method);
      } catch (err) {
        this.throwIfAborted(waitSignal, what);
        const why = attempt.timedOut() ? `timed out after ${timeoutMs} ms` : (err as Error).message;
        if (retries >= maxRetries) throw new GenesysApiError(`Genesys API ${what}: answer cut off (${why})`, res.status);
        retries++;
        await this.wait(policy.next(), waitSignal, what);
        continue;
      } finally {
        attempt.dispose();
      }
      const rateLimit = parseRateLimit(headers);
      if (rateLimit) this.noteRateLimit(rateLimit);
      const status = res.status;
      if (status === 401 && !refreshed && !accept.includes(401)) {
        // The token may have been revoked or expired early: one fresh token, one retry.
        this.tokens.invalidate(token);
        refreshed = true;
        continue;
      }
      if (res.ok || accept.includes(status)) return { status, headers, body, rateLimit };
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(headers['retry-after']) ?? policy.next();
        this.pause(Math.min(retryAfterMs, this.maxRetryAfterMs));
        this.emit('throttled', { path: req.path, retryAfterMs });
        if (retries >= maxRetries || retryAfterMs > this.maxRetryAfterMs) {
          throw new GenesysApiError(`Genesys API ${what} rate limited (429), retry after ${Math.ceil(retryAfterMs / 1000)} s`, 429, body, retryAfterMs);
        }
        retries++;
        continue; // the loop head waits out the pause
      }
      if (status >= 500 || status === 408) {
        if (retries >= maxRetries) throw new GenesysApiError(`Genesys API ${what} answered ${status}${detail(body)}`, status, body);
        retries++;
        await this.wait(Math.max(policy.next(), parseRetryAfter(headers['retry-after']) ?? 0), waitSignal, what);
        continue;
      }
      const hint = status === 401 ? ' even with a fresh token' : status === 403 ? ' (missing permission or scope?)' : '';
      throw new GenesysApiError(`Genesys API ${what} answered ${status}${hint}${detail(body)}`, status, body);
    }
  }

  private noteRateLimit(rl: RateLimit): void {
    this.lastRateLimit = rl;
    // Out of budget: hold every request until the window resets instead of collecting 429s.
    if (rl.remaining !== undefined && rl.remaining <= 0 && rl.resetSeconds !== undefined) {
      this.pause(Math.min(rl.resetSeconds * 1000, this.maxRetryAfterMs));
    }
  }

  private pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  private async wait(ms: number, signal: AbortSignal, what: string): Promise<void> {
    if (ms <= 0) { this.throwIfAborted(signal, what); return; }
    try {
      await sleep(ms, signal);
    } catch (err) {
      if (err instanceof AbortedError) this.throwIfAborted(signal, what);
      throw err;
    }
  }

  private throwIfAborted(signal: AbortSignal, what: string): void {
    if (!signal.aborted) return;
    throw new GenesysApiError(this.closing.signal.aborted ? `Genesys API client closed during ${what}` : `Genesys API ${what} aborted`, 0);
  }
}

/** Rate-limit state from inin-ratelimit-* (platform) or X-RateLimit-* (guide 002) headers. */
export function parseRateLimit(h: Record<string, string>): RateLimit | undefined {
  const num = (k: string): number | undefined => {
    const v = h[k];
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const count = num('inin-ratelimit-count');
  const allowed = num('inin-ratelimit-allowed') ?? num('x-ratelimit-limit');
  let remaining = num('x-ratelimit-remaining');
  if (remaining === undefined && count !== undefined && allowed !== undefined) remaining = Math.max(0, allowed - count);
  let resetSeconds = num('inin-ratelimit-reset') ?? num('x-ratelimit-reset');
  // Some servers send X-RateLimit-Reset as an epoch timestamp rather than a delta.
  if (resetSeconds !== undefined && resetSeconds > 1e9) resetSeconds = Math.max(0, resetSeconds - Date.now() / 1000);
  if (remaining === undefined && allowed === undefined && resetSeconds === undefined) return undefined;
  const rl: RateLimit = {};
  if (remaining !== undefined) rl.remaining = remaining;
  if (allowed !== undefined) rl.allowed = allowed;
  if (resetSeconds !== undefined) rl.resetSeconds = resetSeconds;
  return rl;
}

function queryString(q: ApiRequest['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.append(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => { out[k.toLowerCase()] = v; });
  return out;
}

async function readBody(res: Response, method: string): Promise<any> {
  const text = await res.text(); // always drain, so the keep-alive connection is reused
  if (method === 'HEAD' || !text) return undefined;
  if (/json/i.test(res.headers.get('content-type') || '') || /^[[{]/.test(text.trimStart())) {
    try { return JSON.parse(text); } catch { return text; }
  }
  return text;
}

/** ": <message>" from a Genesys error body, short. */
function detail(body: any): string {
  const m = body && typeof body === 'object' ? body.message ?? body.error_description ?? body.code : typeof body === 'string' ? body : undefined;
  return m ? `: ${String(m).slice(0, 200)}` : '';
}
