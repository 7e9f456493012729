// OAuth client-credentials tokens for one genesys-config: one cached token shared by every node,
// one refresh in flight at a time, refreshed before it expires, and a terminal state when the
// login host rejects the client (no retry storm against login.{env}).
//
// Refresh buffer: refreshAt = issuedAt + expires_in − min(refreshBufferMs, refreshBufferFraction × lifetime).
// Tokens live 300 s to 48 h, so a fixed 5-minute buffer would refresh a 5-minute token on every call:
// with the defaults (5 min, 10 %) a 24 h token refreshes 5 min early, a 5-minute token 30 s early.
import { EventEmitter } from 'node:events';
import { GenesysApiError, type TokenProvider } from './types';
import { ReconnectPolicy, type ReconnectOptions } from './reconnect';
import { AbortedError, linkSignals, parseRetryAfter, sleep, type LinkedSignal } from './backoff';

export interface TokenManagerOptions {
  /** <login host>/oauth/token, see resolveEndpoints() in regions.ts. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Optional OAuth scopes (space-separated string or list). */
  scopes?: string | string[];
  /** Refresh this long before expiry, at most (ms). Default 300 000 (guide 002's 5 minutes). */
  refreshBufferMs?: number;
  /** ...and at most this fraction of the token's lifetime, for short-lived tokens. Default 0.1. */
  refreshBufferFraction?: number;
  /** Timeout of one token request (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** Backoff between failed token requests (5xx, timeouts, 429). Default 1 s doubling to 60 s, jittered, at least 250 ms. */
  retry?: ReconnectOptions;
  /** Token requests per refresh before the waiting callers get the error (backoff continues across refreshes). Default 4. */
  maxAttempts?: number;
  /** Refresh in the background before expiry (default true). */
  proactive?: boolean;
  /** Settings are unusable (bad region/URL): the manager starts failed with this message and never calls out. */
  configError?: string;
}

export type TokenState = 'idle' | 'fetching' | 'ready' | 'retrying' | 'failed' | 'closed';

/** What users of the manager may see: never the token itself. */
export interface TokenStatus {
  state: TokenState;
  /** Why the last request failed ('retrying', 'failed'). */
  error?: string;
  /** 'ready': when the token expires and when it is refreshed (ms since epoch). */
  expiresAt?: number;
  refreshAt?: number;
  /** 'retrying': attempt number and the wait before the next token request. */
  attempt?: number;
  retryInMs?: number;
}

/** The login host refused the client (invalid_client, unauthorized_client, ...): retrying cannot help. */
export class GenesysAuthError extends GenesysApiError {
  readonly terminal = true;
  constructor(message: string, status: number, readonly code: string | undefined, body?: unknown) {
    super(message, status, body);
    this.name = 'GenesysAuthError';
  }
}

interface CachedToken { token: string; expiresAt: number; refreshAt: number }

export class TokenManager extends EventEmitter implements TokenProvider {
  readonly tokenUrl: string;
  /** Token requests sent to the login host (diagnostics). */
  tokenRequests = 0;
  private readonly opts: Required<Omit<TokenManagerOptions, 'scopes' | 'retry' | 'configError'>> & { scope?: string };
  private readonly basic: string;
  private readonly policy: ReconnectPolicy;
  private current: CachedToken | null = null;
  private inflight: Promise<string> | null = null;
  private failure: GenesysAuthError | null = null;
  private notBefore = 0;
  private timer: NodeJS.Timeout | null = null;
  private closing = new AbortController();
  private _status: TokenStatus = { state: 'idle' };

  constructor(o: TokenManagerOptions) {
    super();
    this.tokenUrl = o.tokenUrl;
    const scope = Array.isArray(o.scopes) ? o.scopes.join(' ') : (o.scopes || '').trim().split(/[\s,]+/).filter(Boolean).join(' ');
    this.opts = {
      tokenUrl: o.tokenUrl, clientId: o.clientId, clientSecret: o.clientSecret, scope: scope || undefined,
      refreshBufferMs: o.refreshBufferMs ?? 300_000,
      // at most half the lifetime, so a refresh never lands right after the token arrived
      refreshBufferFraction: Math.min(0.5, Math.max(0, o.refreshBufferFraction ?? 0.1)),
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
      maxAttempts: Math.max(1, o.maxAttempts ?? 4),
      proactive: o.proactive ?? true,
    };
    this.basic = 'Basic ' + Buffer.from(`${o.clientId ?? ''}:${o.clientSecret ?? ''}`, 'utf8').toString('base64');
    this.policy = new ReconnectPolicy({ initialMs: 1000, maxMs: 60_000, minMs: 250, ...o.retry });
    const misconfigured = o.configError ?? (!o.clientId || !o.clientSecret ? 'client id and client secret are required' : undefined);
    if (misconfigured) {
      this.failure = new GenesysAuthError(misconfigured, 0, 'not_configured');
      this._status = { state: 'failed', error: misconfigured };
    }
  }

  get status(): TokenStatus { return { ...this._status }; }

  /** A valid access token; concurrent callers share one token request. */
  async getToken(): Promise<string> {
    if (this.closing.signal.aborted) throw new GenesysApiError('Genesys token manager is closed', 0);
    if (this.failure) throw this.failure;
    const c = this.current;
    const now = Date.now();
    if (c && now < c.refreshAt) return c.token;
    try {
      return await this.refresh();
    } catch (err) {
      // Inside the refresh buffer the old token still works: a login hiccup must not stop the API calls.
      if (!(err instanceof GenesysAuthError) && c && this.current === c && Date.now() < c.expiresAt) return c.token;
      throw err;
    }
  }

  /** An API answered 401 with this token: forget it so the next getToken() fetches a new one. */
  invalidate(token: string): void {
    if (this.current?.token !== token) return; // already replaced by a newer token
    this.current = null;
    this.clearTimer();
  }

  /** Fetches a token now in the background (eager connect); the outcome shows in 'state' events. */
  start(): void {
    if (this.current || this.failure || this.closing.signal.aborted) return;
    this.getToken().catch(() => { /* reported through 'state' */ });
  }

  /** Leaves the terminal state after an explicit user action (test connection, redeploy). */
  reset(): void {
    if (this.closing.signal.aborted || this.failure?.code === 'not_configured') return;
    this.failure = null;
    this.notBefore = 0;
    this.policy.reset();
    if (!this.current && !this.inflight) this.setStatus({ state: 'idle' });
  }

  /** Stops timers and pending backoff waits; later getToken() calls reject. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.clearTimer();
    this.current = null;
    this.setStatus({ state: 'closed' });
  }

  private refresh(): Promise<string> {
    if (!this.inflight) {
      this.inflight = this.runRefresh().finally(() => { this.inflight = null; });
    }
    return this.inflight;
  }

  private async runRefresh(): Promise<string> {
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await this.sleepOrClosed(wait);
      if (!this.current && this._status.state !== 'retrying') this.setStatus({ state: 'fetching' });
      const sentAt = Date.now();
      try {
        const { token, lifetimeMs } = await this.requestToken();
        this.install(token, sentAt, lifetimeMs);
        return token;
      } catch (err) {
        if (this.closing.signal.aborted) throw new GenesysApiError('Genesys token manager is closed', 0);
        if (err instanceof GenesysAuthError) {
          this.failure = err;
          this.current = null;
          this.clearTimer();
          this.setStatus({ state: 'failed', error: err.message });
          throw err;
        }
        lastErr = err;
        const retryAfter = err instanceof GenesysApiError ? err.retryAfterMs ?? 0 : 0;
        const delay = Math.max(this.policy.next(), retryAfter);
        this.notBefore = Date.now() + delay;
        const message = (err as Error).message;
        if (this.current && Date.now() < this.current.expiresAt) {
          this.emit('refreshError', { error: message, attempt, retryInMs: delay });
        } else {
          this.setStatus({ state: 'retrying', error: message, attempt, retryInMs: delay });
        }
      }
    }
    this.scheduleRetry();
    throw lastErr;
  }

  private install(token: string, issuedAt: number, lifetimeMs: number): void {
    const buffer = Math.max(0, Math.min(this.opts.refreshBufferMs, lifetimeMs * this.opts.refreshBufferFraction));
    const expiresAt = issuedAt + lifetimeMs;
    this.current = { token, expiresAt, refreshAt: expiresAt - buffer };
    this.policy.reset();
    this.notBefore = 0;
    this.setStatus({ state: 'ready', expiresAt, refreshAt: this.current.refreshAt });
    this.clearTimer();
    if (this.opts.proactive) this.arm(this.current.refreshAt - Date.now());
  }

  /** A background refresh that used up its attempts tries again after the backoff. */
  private scheduleRetry(): void {
    if (!this.opts.proactive || this.closing.signal.aborted || this.failure) return;
    this.arm(Math.max(0, this.notBefore - Date.now()));
  }

  private arm(ms: number): void {
    this.clearTimer();
    // unref: a cached token must not keep a process alive on its own.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch(() => { /* reported through events; scheduleRetry() re-armed */ });
    }, Math.max(0, ms));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async sleepOrClosed(ms: number): Promise<void> {
    try {
      await sleep(ms, this.closing.signal);
    } catch (err) {
      if (err instanceof AbortedError) throw new GenesysApiError('Genesys token manager is closed', 0);
      throw err;
    }
  }

  private async requestToken(): Promise<{ token: string; lifetimeMs: number }> {
    this.tokenRequests++;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.opts.scope) form.set('scope', this.opts.scope);
    const link = linkSignals([this.closing.signal], this.opts.requestTimeoutMs);
    try {
      return await this.exchange(form, link);
    } finally {
      link.dispose();
    }
  }

  private async exchange(form: URLSearchParams, link: LinkedSignal): Promise<{ token: string; lifetimeMs: number }> {
    let res: Response;
    try {
      res = await fetch(this.tokenUrl, {
        method: 'POST',
        headers: { authorization: this.basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: link.signal,
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (link.timedOut()) throw new GenesysApiError(`Genesys login ${this.tokenUrl} did not answer within ${this.opts.requestTimeoutMs} ms`, 0);
      throw new GenesysApiError(`Genesys login ${this.tokenUrl} unreachable: ${this.redact(e.cause?.code || e.message)}`, 0);
    }
    const text = await res.text().catch(() => '');
    if (link.timedOut()) throw new GenesysApiError(`Genesys login ${this.tokenUrl} did not answer within ${this.opts.requestTimeoutMs} ms`, 0);
    let body: any;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
    if (res.ok) {
      const token = body?.access_token;
      const expiresIn = Number(body?.expires_in);
      if (typeof token !== 'string' || !token || !(expiresIn > 0)) {
        throw new GenesysApiError(`Genesys login ${this.tokenUrl} answered ${res.status} without access_token/expires_in`, 502);
      }
      return { token, lifetimeMs: expiresIn * 1000 };
    }
    const code: string | undefined = typeof body?.error === 'string' ? body.error : undefined;
    const desc = this.redact(String(body?.error_description ?? body?.description ?? body?.message ?? '').slice(0, 200));
    const safeBody = body && typeof body === 'object' ? { error: code, description: desc || undefined } : undefined;
    if (res.status === 429 || res.status === 408 || res.status >= 500) {
      throw new GenesysApiError(`Genesys login ${this.tokenUrl} answered ${res.status}${code ? ` (${code})` : ''}`, res.status, safeBody,
        parseRetryAfter(res.headers.get('retry-after')));
    }
    const what = code === 'invalid_client' || code === 'unauthorized_client'
      ? 'rejected the client credentials: check client id, client secret and region'
      : 'refused the token request';
    throw new GenesysAuthError(`Genesys login ${what} (${res.status}${code ? ` ${code}` : ''}${desc ? `: ${desc}` : ''})`, res.status, code, safeBody);
  }

  /** Strips the secret and the Basic credentials from text that came back from the network. */
  private redact(text: string): string {
    let out = this.opts.clientSecret ? text.split(this.opts.clientSecret).join('***') : text;
    out = out.split(this.basic.slice(6)).join('***');
    if (this.current) out = out.split(this.current.token).join('***');
    return out;
  }

  private setStatus(s: TokenStatus): void {
    const prev = this._status;
    this._status = s;
    if (prev.state === s.state && prev.error === s.error && prev.expiresAt === s.expiresAt && prev.attempt === s.attempt) return;
    this.emit('state', { ...s });
  }
}
