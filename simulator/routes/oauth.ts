// POST /oauth/token: the client-credentials grant of login.{env} (HTTP Basic, form body).
// Faults a test can inject: generic ones through sim.injectFault('/oauth/token', 503, n) and
// sim.injectDelay('/oauth/token', ms); OAuth errors through forceOAuthError(); lifetime through
// sim.opts.tokenLifetimeSeconds or per client. Every call counts in sim.count('POST /oauth/token').
import { randomBytes } from 'node:crypto';
import type { GenesysSimulator } from '../server';
import { sendJson } from '../server';

export interface OAuthSimState {
  /** Token requests that reached the route (injected faults answer before it; see sim.count). */
  calls: number;
  issued: number;
  rejected: number;
  /** Scope parameter of the last token request. */
  lastScope?: string;
  /** Answer the next `remaining` token requests with this OAuth error (Infinity: until cleared). */
  forced: { error: string; status: number; remaining: number } | null;
}

export function oauthState(sim: GenesysSimulator): OAuthSimState {
  if (!sim.state.oauth) sim.state.oauth = { calls: 0, issued: 0, rejected: 0, forced: null } satisfies OAuthSimState;
  return sim.state.oauth as OAuthSimState;
}

/** Makes the login host refuse the client: invalid_client answers 401, other codes (unauthorized_client, invalid_scope) 400. */
export function forceOAuthError(sim: GenesysSimulator, error = 'invalid_client', count = Infinity, status?: number): void {
  oauthState(sim).forced = { error, status: status ?? (error === 'invalid_client' ? 401 : 400), remaining: count };
}

export function clearOAuthError(sim: GenesysSimulator): void {
  oauthState(sim).forced = null;
}

export function registerOAuth(sim: GenesysSimulator): void {
  const st = oauthState(sim);
  sim.route('POST', '/oauth/token', (req, res, ctx) => {
    st.calls++;
    const form = new URLSearchParams(ctx.rawBody.toString('utf8'));
    st.lastScope = form.get('scope') ?? undefined;
    if (st.forced && st.forced.remaining > 0) {
      st.forced.remaining--;
      const { error, status } = st.forced;
      if (st.forced.remaining <= 0) st.forced = null;
      st.rejected++;
      sendJson(res, status, oauthError(error));
      return;
    }
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
    const decoded = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const id = colon >= 0 ? decoded.slice(0, colon) : '';
    const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
    const client = sim.opts.clients.find((c) => c.id === id && c.secret === secret);
    if (!client) {
      st.rejected++;
      sendJson(res, 401, oauthError('invalid_client'));
      return;
    }
    if (form.get('grant_type') !== 'client_credentials') {
      st.rejected++;
      sendJson(res, 400, { error: 'unsupported_grant_type', description: 'grant type not supported', error_description: 'grant type not supported' });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    const lifetime = client.tokenLifetimeSeconds ?? sim.opts.tokenLifetimeSeconds;
    sim.tokens.set(token, { expiresAt: Date.now() + lifetime * 1000, clientId: client.id });
    st.issued++;
    sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: lifetime });
  }, false);
}

function oauthError(error: string): unknown {
  const description = error === 'invalid_client' ? 'client is invalid' : error === 'unauthorized_client' ? 'client is not authorized for this grant' : error;
  return { error, description, error_description: description };
}
