// Small, independent TokenProvider/GenesysApi over fetch against the simulator, plus helpers to
// compare what a source emitted with the simulator's ledger. Deliberately minimal: the real
// token manager and API client have their own tests; these keep the channel tests self-contained.
import { DEFAULT_CLIENT, type GenesysSimulator } from '../../simulator/server';
import { GenesysApiError, type ApiRequest, type ApiResponse, type GenesysApi, type TokenProvider } from '../../lib/genesys/types';
import { isConversationEnded } from '../../lib/genesys/channels/conversation-state';

export class SimTokens implements TokenProvider {
  fetches = 0;
  private token: string | null = null;
  private expiresAt = 0;
  private inflight: Promise<string> | null = null;
  constructor(private readonly sim: GenesysSimulator) {}

  async getToken(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt) return this.token;
    this.inflight ??= this.fetchToken().finally(() => { this.inflight = null; });
    return this.inflight;
  }

  invalidate(token: string): void {
    if (token === this.token) this.token = null;
  }

  private async fetchToken(): Promise<string> {
    this.fetches++;
    const res = await fetch(`${this.sim.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    if (res.status !== 200) throw new GenesysApiError(`token ${res.status}`, res.status);
    const b = await res.json() as { access_token: string; expires_in: number };
    this.token = b.access_token;
    // Refresh at 80% of the lifetime, like a real token manager with a proportional buffer.
    this.expiresAt = Date.now() + b.expires_in * 800;
    return this.token;
  }
}

export class SimApi implements GenesysApi {
  readonly apiBase: string;
  readonly calls: string[] = [];
  constructor(private readonly sim: GenesysSimulator, readonly tokens: TokenProvider = new SimTokens(sim)) {
    this.apiBase = sim.baseUrl;
  }

  async request<T = any>(req: ApiRequest): Promise<ApiResponse<T>> {
    const qs = req.query ? '?' + new URLSearchParams(Object.entries(req.query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString() : '';
    let retried = false;
    for (;;) {
      const token = await this.tokens.getToken();
      this.calls.push(`${req.method} ${req.path}`);
      const res = await fetch(this.apiBase + req.path + qs, {
        method: req.method,
        headers: { authorization: `Bearer ${token}`, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        signal: req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs ?? 10_000)]) : AbortSignal.timeout(req.timeoutMs ?? 10_000),
      });
      const text = req.method === 'HEAD' ? '' : await res.text();
      let body: any = undefined;
      if (text) { try { body = JSON.parse(text); } catch { body = text; } }
      if (res.status === 401 && !retried) { retried = true; this.tokens.invalidate(token); continue; }
      if ((res.ok || req.acceptStatus?.includes(res.status))) {
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => { headers[k] = v; });
        return { status: res.status, headers, body };
      }
      throw new GenesysApiError(`${req.method} ${req.path} → ${res.status}`, res.status, body);
    }
  }
}

/** Polls until cond() is true or the time is up. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** JSON with sorted keys, so equal bodies compare equal whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableStringify((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export const bodyKey = (body: { id?: string }): string => `${body.id}|${stableStringify(body)}`;

/** Ledger entries of notification events the platform delivered that are missing from `emitted`. */
export function missingFromLedger(sim: GenesysSimulator, emitted: unknown[]): string[] {
  const seen = new Set(emitted.map((b) => bodyKey(b as { id?: string })));
  return sim.ledger.byPath('notification')
    .filter((e) => e.delivered && !e.malformed && !seen.has(bodyKey(e.payload as { id?: string })))
    .map((e) => e.eventId);
}

/** A coarse state both shapes agree on (notification event vs. GET conversation). */
export function coarseState(body: any): string {
  if (isConversationEnded(body)) return 'ended';
  const agent = (body?.participants ?? []).find((p: any) => p.purpose === 'agent');
  const sessions = agent ? ['calls', 'chats', 'emails', 'messages'].flatMap((k) => agent[k] ?? []) : [];
  const s = sessions[0];
  if (!s) return 'queued';
  const st = String(s.state).toLowerCase();
  if (st === 'disconnected') return 'wrapup';
  if (s.held) return 'held';
  return st;
}

/** The coarse state the simulator's world holds for a conversation. */
export function worldCoarseState(sim: GenesysSimulator, id: string): string {
  const c = sim.world.get(id);
  if (!c) return 'missing';
  return c.state === 'queued' && c.agentId ? 'queued' : c.state;
}
