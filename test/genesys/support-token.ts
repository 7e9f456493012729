// A tiny TokenProvider for tests: fetches client-credentials tokens from the simulator's
// POST /oauth/token, caches one, shares an in-flight fetch, and counts what it did.
// (The real one is lib/genesys/token-manager.ts; tests here must not depend on its timing.)
import { DEFAULT_CLIENT } from '../../simulator/server';
import type { TokenProvider } from '../../lib/genesys/types';

export class SimTokenProvider implements TokenProvider {
  fetches = 0;
  getTokenCalls = 0;
  readonly invalidated: string[] = [];
  readonly issued: string[] = [];
  private token: string | null = null;
  private inflight: Promise<string> | null = null;

  constructor(private readonly baseUrl: string, private readonly client = DEFAULT_CLIENT) {}

  async getToken(): Promise<string> {
    this.getTokenCalls++;
    if (this.token) return this.token;
    this.inflight ??= this.fetchToken().finally(() => { this.inflight = null; });
    return this.inflight;
  }

  invalidate(token: string): void {
    this.invalidated.push(token);
    if (this.token === token) this.token = null;
  }

  private async fetchToken(): Promise<string> {
    this.fetches++;
    const res = await fetch(`${this.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${this.client.id}:${this.client.secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}`);
    const body = (await res.json()) as { access_token: string };
    this.token = body.access_token;
    this.issued.push(body.access_token);
    return body.access_token;
  }
}
