// genesys-config: one Genesys Cloud OAuth client (region, client credentials, scopes). Holds the
// shared token manager and API client, fans the login state out to every node that registered
// (like core's MQTT broker), and serves the editor's "Test connection" admin endpoint.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { resolveEndpoints, type EndpointSettings, type GenesysEndpoints } from '../../lib/genesys/regions';
import { TokenManager, type TokenStatus } from '../../lib/genesys/token-manager';
import { GenesysApiClient } from '../../lib/genesys/api-client';
import { health, nodeMetrics, releaseNode } from '../../lib/metrics';
import type { GenesysConfigNode } from './types';

interface GenesysConfigDef extends NodeDef, EndpointSettings {
  scopes?: string;
  /** Seconds before expiry to refresh (capped at 10 % of the token lifetime). */
  refreshBuffer?: number | string;
  /** API request timeout, seconds. */
  timeout?: number | string;
}

interface GenesysCredentials { clientId?: string; clientSecret?: string }

type ConfigNode = Node<GenesysCredentials> & {
  -readonly [K in keyof GenesysConfigNode]: GenesysConfigNode[K];
} & { settings: GenesysConfigDef; users: Map<string, Node> };

/** The editor sends this for a password it did not receive back. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

export = function (RED: NodeAPI): void {
  function GenesysConfig(this: ConfigNode, config: GenesysConfigDef) {
    RED.nodes.createNode(this, config);
    const creds = this.credentials || {};
    this.settings = config;
    this.users = new Map();
    this.configError = null;
    this.endpoints = null;
    try {
      this.endpoints = resolveEndpoints(config);
    } catch (err) {
      this.configError = (err as Error).message;
    }
    if (!this.configError && (!creds.clientId || !creds.clientSecret)) this.configError = 'client id and client secret are required';
    this.tokenManager = new TokenManager({
      tokenUrl: this.endpoints?.tokenUrl ?? '',
      clientId: creds.clientId ?? '',
      clientSecret: creds.clientSecret ?? '',
      scopes: config.scopes,
      refreshBufferMs: seconds(config.refreshBuffer, 300) * 1000,
      configError: this.configError ?? undefined,
    });
    this.api = new GenesysApiClient({
      apiBase: this.endpoints?.apiBase ?? '',
      tokens: this.tokenManager,
      timeoutMs: (seconds(config.timeout, 15) || 15) * 1000,
    });
    Object.defineProperty(this, 'tokenStatus', { get: () => this.tokenManager.status, enumerable: true });
    if (this.configError) this.error(RED._('genesys-config.errors.setup', { error: this.configError }));

    const statusFor = (s: TokenStatus) => {
      switch (s.state) {
        case 'ready': return { fill: 'green', shape: 'dot', text: RED._('genesys-config.status.connected') };
        case 'retrying': return { fill: 'yellow', shape: 'ring', text: RED._('genesys-config.status.retrying') };
        case 'failed': return { fill: 'red', shape: 'ring', text: RED._(this.configError ? 'genesys-config.status.misconfigured' : 'genesys-config.status.failed') };
        case 'closed': return {};
        default: return { fill: 'yellow', shape: 'ring', text: RED._('genesys-config.status.connecting') };
      }
    };
    const fanOut = () => {
      const st = statusFor(this.tokenManager.status) as any;
      for (const user of this.users.values()) user.status(st);
    };

    const metrics = nodeMetrics(this, ['tokenRefreshes', 'tokenFailures', 'rateLimited']);
    this.tokenManager.on('state', (s: TokenStatus) => {
      // Every new token emits 'ready' (new expiry); every failed token request 'retrying' or 'failed'.
      if (s.state === 'ready') metrics.tokenRefreshes++;
      else if (s.state === 'retrying' || s.state === 'failed') metrics.tokenFailures++;
      fanOut();
      if (s.state === 'failed') this.error(RED._('genesys-config.errors.login', { error: s.error ?? '' }));
      else if (s.state === 'retrying') {
        this.warn(RED._('genesys-config.errors.retrying', { attempt: s.attempt ?? 0, seconds: Math.ceil((s.retryInMs ?? 0) / 1000), error: s.error ?? '' }));
      }
    });
    this.tokenManager.on('refreshError', (e: { error: string; retryInMs: number }) => {
      metrics.tokenFailures++;
      this.warn(RED._('genesys-config.errors.refresh', { seconds: Math.ceil(e.retryInMs / 1000), error: e.error }));
    });
    this.api.on('throttled', (e: { path: string; retryAfterMs: number }) => {
      metrics.rateLimited++;
      this.debug(`rate limited on ${e.path}, waiting ${e.retryAfterMs} ms`);
    });

    // Health: ready while the login holds a token; only while some node uses this config.
    const component = {
      type: 'genesys-config', name: this.name || this.endpoints?.apiBase || '',
      check: () => {
        const s = this.tokenManager.status;
        return { ready: s.state === 'ready', detail: s.error ? `${s.state}: ${s.error}` : s.state };
      },
    };
    this.register = (user: Node) => {
      this.users.set(user.id, user);
      user.status(statusFor(this.tokenManager.status) as any);
      if (this.users.size === 1) {
        health.register(this.id, component);
        this.tokenManager.start();
      }
    };
    this.deregister = (user: Node, done?: () => void) => {
      this.users.delete(user.id);
      if (this.users.size === 0) health.deregister(this.id, component);
      if (done) done();
    };

    this.on('close', (removed: boolean, done: () => void) => {
      health.deregister(this.id, component);
      releaseNode(this.id, removed);
      this.tokenManager.close();
      this.api.close();
      this.users.clear();
      done();
    });
  }

  RED.nodes.registerType('genesys-config', GenesysConfig as any, {
    credentials: { clientId: { type: 'text' }, clientSecret: { type: 'password' } },
  });

  // Test connection: one token request with the dialog's values (or the deployed ones), reported
  // as {ok, ...}; the token itself never leaves this handler.
  RED.httpAdmin.post('/genesys-config/:id/test', RED.auth.needsPermission('genesys-config.write'), (req: any, res: any) => {
    testConnection(req.params.id, req.body || {}).then(
      (r) => res.status(r.httpStatus).json(r.body),
      (err) => res.status(500).json({ ok: false, error: String((err as Error).message) }),
    );
  });

  async function testConnection(id: string, typed: Record<string, unknown>): Promise<{ httpStatus: number; body: Record<string, unknown> }> {
    const deployed = RED.nodes.getNode(id) as ConfigNode | null;
    const stored: GenesysCredentials = deployed?.credentials ?? (RED.nodes.getCredentials(id) as GenesysCredentials | undefined) ?? {};
    const str = (v: unknown) => (typeof v === 'string' ? envValue(v) : undefined);
    const hasTyped = ['region', 'baseUrl', 'loginUrl', 'apiUrl'].some((k) => typeof typed[k] === 'string');
    if (!hasTyped && !deployed) return { httpStatus: 404, body: { ok: false, error: RED._('genesys-config.test.notDeployed') } };
    const settings: GenesysConfigDef = hasTyped
      ? { region: str(typed.region), baseUrl: str(typed.baseUrl), loginUrl: str(typed.loginUrl), apiUrl: str(typed.apiUrl), scopes: str(typed.scopes) } as GenesysConfigDef
      : deployed!.settings;
    const typedSecret = str(typed.clientSecret);
    const clientId = str(typed.clientId) || stored.clientId;
    const clientSecret = typedSecret && typedSecret !== PASSWORD_PLACEHOLDER ? typedSecret : stored.clientSecret;
    let endpoints: GenesysEndpoints;
    try {
      endpoints = resolveEndpoints(settings);
    } catch (err) {
      return { httpStatus: 400, body: { ok: false, error: (err as Error).message } };
    }
    if (!clientId || !clientSecret) return { httpStatus: 400, body: { ok: false, error: RED._('genesys-config.test.noCredentials') } };
    const probe = new TokenManager({ tokenUrl: endpoints.tokenUrl, clientId, clientSecret, scopes: settings.scopes, maxAttempts: 1, proactive: false });
    try {
      await probe.getToken();
      const expiresAt = probe.status.expiresAt ?? Date.now();
      // An explicit, successful test lifts the deployed node out of its terminal "rejected" state.
      if (deployed && deployed.tokenManager.status.state === 'failed' && !deployed.configError &&
          clientId === stored.clientId && clientSecret === stored.clientSecret && endpoints.tokenUrl === deployed.endpoints?.tokenUrl) {
        deployed.tokenManager.reset();
        if (deployed.users.size) deployed.tokenManager.start();
      }
      return { httpStatus: 200, body: { ok: true, tokenUrl: endpoints.tokenUrl, apiBase: endpoints.apiBase, expiresInSeconds: Math.round((expiresAt - Date.now()) / 1000) } };
    } catch (err) {
      const e = err as Error & { status?: number };
      return { httpStatus: 502, body: { ok: false, status: e.status, tokenUrl: endpoints.tokenUrl, error: e.message } };
    } finally {
      probe.close();
    }
  }
};

/** Node-RED replaces whole-value ${VAR} only when flows load; values typed in the dialog get the same here. */
function envValue(v: string): string {
  const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v.trim());
  return m ? process.env[m[1]] ?? '' : v;
}

function seconds(v: number | string | undefined, dflt: number): number {
  const n = typeof v === 'string' && v.trim() === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}
