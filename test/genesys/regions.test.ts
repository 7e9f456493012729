import { strict as assert } from 'node:assert';
import { REGIONS, resolveEndpoints, findRegion } from '../../lib/genesys/regions';

describe('genesys regions', () => {
  it('covers every region of GENESYS-API.md with login.{env} and api.{env}', () => {
    const envs = ['mypurecloud.com', 'usw2.pure.cloud', 'cac1.pure.cloud', 'use2.us-gov-pure.cloud', 'mypurecloud.ie', 'euw2.pure.cloud',
      'mypurecloud.de', 'euc2.pure.cloud', 'edee1.eusc-pure.cloud', 'aps1.pure.cloud', 'apne2.pure.cloud', 'apne3.pure.cloud',
      'apse1.pure.cloud', 'mypurecloud.com.au', 'mypurecloud.jp', 'sae1.pure.cloud', 'mec1.pure.cloud', 'mxc1.pure.cloud'];
    assert.deepEqual(REGIONS.map((r) => r.env).sort(), [...envs].sort());
    for (const env of envs) {
      const e = resolveEndpoints({ region: env });
      assert.equal(e.tokenUrl, `https://login.${env}/oauth/token`);
      assert.equal(e.apiBase, `https://api.${env}`);
    }
  });

  it('accepts region ids in either spelling and defaults to us-east-1', () => {
    assert.equal(resolveEndpoints({ region: 'eu_central_1' }).apiBase, 'https://api.mypurecloud.de');
    assert.equal(resolveEndpoints({}).loginBase, 'https://login.mypurecloud.com');
    assert.equal(findRegion('AP-SOUTHEAST-2')!.env, 'mypurecloud.com.au');
  });

  it('custom: one base URL for both, or separate login and API URLs', () => {
    const sim = resolveEndpoints({ region: 'custom', baseUrl: 'http://127.0.0.1:8990/' });
    assert.deepEqual(sim, { loginBase: 'http://127.0.0.1:8990', apiBase: 'http://127.0.0.1:8990', tokenUrl: 'http://127.0.0.1:8990/oauth/token', region: 'custom' });
    const split = resolveEndpoints({ region: 'custom', loginUrl: 'https://login.example.com/gc', apiUrl: 'https://api.example.com' });
    assert.equal(split.tokenUrl, 'https://login.example.com/gc/oauth/token');
    assert.equal(split.apiBase, 'https://api.example.com');
    assert.equal(resolveEndpoints({ baseUrl: 'http://sim:1' }).region, 'custom', 'a base URL without region means custom');
  });

  it('rejects unknown regions and bad URLs with a clear message', () => {
    assert.throws(() => resolveEndpoints({ region: 'mars-1' }), /unknown Genesys Cloud region "mars-1"/);
    assert.throws(() => resolveEndpoints({ region: 'custom' }), /needs a base URL/);
    assert.throws(() => resolveEndpoints({ region: 'custom', baseUrl: 'nope' }), /invalid custom base URL/);
    assert.throws(() => resolveEndpoints({ region: 'custom', baseUrl: 'ftp://x' }), /must be http/);
    assert.throws(() => resolveEndpoints({ region: 'custom', baseUrl: 'https://u:p@x' }), /must not carry credentials/);
    assert.throws(() => resolveEndpoints({ region: 'custom', loginUrl: 'https://x' }), /needs a base URL/);
  });
});
