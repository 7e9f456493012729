// POST /oauth/token: the client-credentials grant of login.{env} (HTTP Basic, form body).
import { randomBytes } from 'node:crypto';
import type { GenesysSimulator } from '../server';
import { sendJson } from '../server';

export function registerOAuth(sim: GenesysSimulator): void {
  sim.route('POST', '/oauth/token', (req, res, ctx) => {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
    const [id, secret] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [];
    const client = sim.opts.clients.find((c) => c.id === id && c.secret === secret);
    if (!client) {
      sendJson(res, 401, { error: 'invalid_client', description: 'client is invalid', error_description: 'client is invalid' });
      return;
    }
    const form = new URLSearchParams(ctx.rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type', description: 'grant type not supported' });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    const lifetime = sim.opts.tokenLifetimeSeconds;
    sim.tokens.set(token, { expiresAt: Date.now() + lifetime * 1000, clientId: client.id });
    sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: lifetime });
  }, false);
}
