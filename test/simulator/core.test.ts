import { strict as assert } from 'node:assert';
import { GenesysSimulator, DEFAULT_CLIENT } from '../../simulator/server';

describe('simulator core', () => {
  let sim: GenesysSimulator;
  beforeEach(async () => { sim = new GenesysSimulator({ tokenLifetimeSeconds: 300 }); await sim.start(); });
  afterEach(() => sim.stop());

  it('issues a client-credentials token and rejects a wrong secret', async () => {
    const basic = (s: string) => 'Basic ' + Buffer.from(`${DEFAULT_CLIENT.id}:${s}`).toString('base64');
    const ok = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic(DEFAULT_CLIENT.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    assert.equal(ok.status, 200);
    const body = await ok.json() as { access_token: string; expires_in: number; token_type: string };
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 300);
    const bad = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic('nope') }, body: 'grant_type=client_credentials' });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json() as { error: string }).error, 'invalid_client');
  });

  it('answers injected faults before routes, then recovers', async () => {
    sim.injectFault('/oauth/token', 503, 1);
    const first = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST' });
    assert.equal(first.status, 503);
    const second = await fetch(`${sim.baseUrl}/oauth/token`, { method: 'POST' });
    assert.equal(second.status, 401);
  });
});
