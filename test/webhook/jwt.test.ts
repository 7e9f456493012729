import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { SignJWT, generateKeyPair, UnsecuredJWT } from 'jose';
import { JwtVerifier, signHs256, type SecretSet } from '../../lib/ingest/jwt';
import { StaticSecrets } from '../../lib/ingest/secrets';

const SECRET = 'current-secret-0123456789abcdef0123456789';
const OLD = 'previous-secret-0123456789abcdef012345678';
const key = (s: string) => new TextEncoder().encode(s);
const nowSec = () => Math.floor(Date.now() / 1000);

function verifier(secrets: SecretSet = new StaticSecrets([SECRET]), extra: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) {
  return new JwtVerifier({ secrets, issuer: 'genesys-cloud', audience: 'your-ingestion-service', clockToleranceSec: 5, ...extra });
}

async function joseToken(opts: { secret?: string; iss?: string; aud?: string | string[]; exp?: number | null; nbf?: number; iat?: number; header?: Record<string, unknown> } = {}) {
  const claims: Record<string, unknown> = { sub: 'subscription-1', jti: 'j1' };
  if (opts.nbf !== undefined) claims.nbf = opts.nbf;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(opts.header ?? {}) })
    .setIssuer(opts.iss ?? 'genesys-cloud').setAudience(opts.aud ?? 'your-ingestion-service').setIssuedAt(opts.iat ?? nowSec());
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? nowSec() + 60);
  return jwt.sign(key(opts.secret ?? SECRET));
}

const reason = (r: ReturnType<JwtVerifier['verify']>) => (r.ok ? 'ok' : r.reason);

describe('webhook JWT verification (HS256, node:crypto)', () => {
  it('accepts a token signed by jose with the configured secret and returns its claims', async () => {
    const r = verifier().verifyAuthorization(`Bearer ${await joseToken()}`);
    assert.ok(r.ok);
    assert.equal(r.claims.iss, 'genesys-cloud');
    assert.equal(r.claims.sub, 'subscription-1');
  });

  it('refuses every failure class with its own reason', async () => {
    const v = verifier();
    const t = nowSec();
    const cases: [string, string | undefined][] = [
      ['missing', undefined],
      ['missing', 'Basic abc'],
      ['signature', `Bearer ${await joseToken({ secret: 'some-other-secret-0123456789abcdef01' })}`],
      ['expired', `Bearer ${await joseToken({ exp: t - 60 })}`],
      ['not-yet-valid', `Bearer ${await joseToken({ nbf: t + 600 })}`],
      ['issued-in-future', `Bearer ${await joseToken({ iat: t + 600, exp: t + 900 })}`],
      ['issuer', `Bearer ${await joseToken({ iss: 'evil-cloud' })}`],
      ['audience', `Bearer ${await joseToken({ aud: 'other-service' })}`],
      ['no-expiry', `Bearer ${await joseToken({ exp: null })}`],
      ['type', `Bearer ${await joseToken({ header: { typ: 'at+jwt' } })}`],
      ['malformed', 'Bearer not-a-jwt'],
      ['malformed', 'Bearer a.b'],
      ['malformed', 'Bearer a.b.c.d'],
      ['malformed', `Bearer ${Buffer.from('[1]').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.x`],
    ];
    for (const [want, header] of cases) assert.equal(reason(v.verifyAuthorization(header)), want, `${want}: ${header}`);
  });

  it('refuses alg none, RS256 and ES256 tokens, and an RS256 header HMAC-signed with the secret (key confusion)', async () => {
    const v = verifier();
    const none = new UnsecuredJWT({ iss: 'genesys-cloud', aud: 'your-ingestion-service' }).setExpirationTime('1m').encode();
    assert.equal(reason(v.verify(none)), 'algorithm');
    const noneWithSig = none.replace(/\.$/, '.' + 'A'.repeat(43));
    assert.equal(reason(v.verify(noneWithSig)), 'algorithm');
    for (const alg of ['RS256', 'ES256'] as const) {
      const { privateKey } = await generateKeyPair(alg);
      const tok = await new SignJWT({}).setProtectedHeader({ alg }).setIssuer('genesys-cloud').setAudience('your-ingestion-service').setExpirationTime('1m').sign(privateKey);
      assert.equal(reason(v.verify(tok)), 'algorithm', alg);
    }
    const confused = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 60 }, SECRET, { alg: 'RS256' });
    assert.equal(reason(v.verify(confused)), 'algorithm');
    const hs512 = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 60 }, SECRET, { alg: 'HS512' });
    assert.equal(reason(v.verify(hs512)), 'algorithm');
    const crit = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 60 }, SECRET, { crit: ['b64'], b64: false });
    assert.equal(reason(v.verify(crit)), 'critical');
  });

  it('refuses a valid signature with a tampered payload and a non-canonical signature', async () => {
    const tok = await joseToken();
    const [h, , s] = tok.split('.');
    const forged = Buffer.from(JSON.stringify({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 9999 })).toString('base64url');
    assert.equal(reason(verifier().verify(`${h}.${forged}.${s}`)), 'signature');
    assert.equal(reason(verifier().verify(tok + '=')), 'signature');
    assert.equal(reason(verifier().verify(tok.slice(0, -1))), 'signature');
  });

  it('honours the clock tolerance for exp and nbf', async () => {
    const t = nowSec();
    assert.ok(verifier().verify(await joseToken({ exp: t - 2 })).ok, 'expired 2 s ago is within 5 s');
    assert.ok(verifier().verify(await joseToken({ nbf: t + 2 })).ok, 'valid in 2 s is within 5 s');
    assert.equal(reason(verifier().verify(await joseToken({ exp: t - 10 }))), 'expired');
  });

  it('accepts aud as an array containing the audience, and several issuers/audiences', async () => {
    assert.ok(verifier().verify(await joseToken({ aud: ['x', 'your-ingestion-service'] })).ok);
    assert.equal(reason(verifier().verify(await joseToken({ aud: ['x', 'y'] }))), 'audience');
    const v = verifier(undefined, { audience: ['a1', 'a2'] });
    assert.ok(v.verify(await joseToken({ aud: 'a2' })).ok);
  });

  it('accepts tokens of every active secret (rotation) and none when no secret is configured', async () => {
    const v = verifier(new StaticSecrets([SECRET, OLD]));
    assert.ok(v.verify(await joseToken({ secret: OLD })).ok);
    assert.ok(v.verify(await joseToken({ secret: SECRET })).ok);
    assert.equal(reason(verifier(new StaticSecrets([])).verify(await joseToken())), 'no-secret');
  });

  it('base64 secrets: the decoded bytes are the key', async () => {
    const raw = Buffer.from('0123456789abcdef0123456789abcdef');
    const v = verifier(new StaticSecrets([raw.toString('base64')], 'base64'));
    const tok = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 60 }, raw);
    assert.ok(v.verify(tok).ok);
    const textKeyed = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: nowSec() + 60 }, raw.toString('base64'));
    assert.equal(reason(v.verify(textKeyed)), 'signature');
  });

  it('the token cache re-checks expiry and forgets everything when the secrets change', async () => {
    let now = Date.now();
    let version = 1;
    let keys = [Buffer.from(SECRET)];
    const set: SecretSet = { get version() { return version; }, secrets: () => keys };
    const v = verifier(set, { now: () => now, clockToleranceSec: 0 });
    const tok = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', exp: Math.floor(now / 1000) + 10 }, SECRET);
    assert.ok(v.verify(tok).ok);
    // Count HMACs: a cache hit must not compute one.
    let hmacs = 0;
    const crypto = require('node:crypto');
    const orig = crypto.createHmac;
    crypto.createHmac = (...a: any[]) => { hmacs++; return orig(...a); };
    try {
      assert.ok(v.verify(tok).ok);
      assert.equal(hmacs, 0, 'second verify is a cache hit');
      now += 11000;
      assert.equal(reason(v.verify(tok)), 'expired', 'cached token expires');
      now -= 11000;
      keys = [Buffer.from(OLD)];
      version++;
      assert.equal(reason(v.verify(tok)), 'signature', 'secret removed: cached token refused');
    } finally {
      crypto.createHmac = orig;
    }
    assert.equal(typeof createHmac, 'function');
  });
});
