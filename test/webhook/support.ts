// Shared helpers for the webhook tests: tokens, a Genesys simulator with an access token, a target server.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signHs256 } from '../../lib/ingest/jwt';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { SimConversation } from '../../simulator/world';

export const SECRET = 'webhook-test-secret-0123456789abcdef';
export const ISS = 'genesys-cloud';
export const AUD = 'your-ingestion-service';

export function token(claims: Record<string, unknown> = {}, secret: string | Buffer = SECRET, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ iss: ISS, aud: AUD, iat: now, exp: now + 60, sub: 'sub-1', jti: 'jti-1', ...claims }, secret, header);
}

export async function simulatorWithToken(opts: ConstructorParameters<typeof GenesysSimulator>[0] = {}): Promise<{ sim: GenesysSimulator; accessToken: string }> {
  const sim = new GenesysSimulator(opts);
  await sim.start();
  const basic = 'Basic ' + Buffer.from(`${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}`).toString('base64');
  const res = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const body = await res.json() as { access_token: string };
  return { sim, accessToken: body.access_token };
}

export interface Received { headers: http.IncomingHttpHeaders; body: any; at: number }

/** A push target whose answers a test scripts: `answer` returns [status, headers?] per request. */
export async function targetServer(answer: (r: Received, n: number) => [number, Record<string, string>?] = () => [200], port = 0) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), at: Date.now() };
      received.push(r);
      const [status, headers] = answer(r, received.length);
      res.writeHead(status, { 'content-type': 'application/json', ...(headers ?? {}) }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url, received,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

let convSeq = 0;
export function conversation(overrides: Partial<SimConversation> = {}): Omit<SimConversation, 'seq' | 'transfers' | 'state'> {
  convSeq++;
  return {
    id: `00000000-0000-4000-8000-${String(convSeq).padStart(12, '0')}`,
    mediaType: 'voice', direction: 'inbound', queueId: 'q-sales', queueName: 'Sales', customerAddress: 'tel:+15550100',
    startTime: new Date().toISOString(), ...overrides,
  } as Omit<SimConversation, 'seq' | 'transfers' | 'state'>;
}

export function registration(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'DataLake.RealtimeAnalytics.Ingestion', resource: 'realtime:interaction', filter: '',
    target: { url, method: 'POST' },
    retry: { maxRetries: 3, initialDelayMs: 20, maxDelayMs: 200, backoffMultiplier: 2 },
    security: { type: 'jwt', signingAlgorithm: 'HS256', signingSecret: SECRET },
    ...extra,
  };
}

export async function api(sim: GenesysSimulator, accessToken: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(sim.baseUrl + path, {
    method, headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
