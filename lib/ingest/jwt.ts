// HS256 bearer tokens of push delivery (guide 000): strict verification with node:crypto.
// jose's verify costs ~250 µs per HS256 token here (≈ 4k/s on one core); an HMAC with
// timingSafeEqual costs ~13 µs, so verification never caps a 10k events/s webhook.
// Only the algorithm the registration allows is accepted: the header must say exactly HS256,
// so "none", RS256/ES256 and public-key-as-HMAC-secret (key confusion) tokens all fail.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Why a token was refused. For metrics and tests only: never sent to the client. */
export type JwtFailure =
  | 'missing'        // no Authorization: Bearer header
  | 'malformed'      // not three base64url parts, or header/payload not JSON objects
  | 'algorithm'      // header alg other than HS256 (none, RS256, ES256, HS512, ...)
  | 'type'           // header typ present and not JWT
  | 'critical'       // header crit: extensions we do not understand (RFC 7515 4.1.11)
  | 'signature'      // no configured secret produced this signature
  | 'issuer'
  | 'audience'
  | 'no-expiry'      // exp missing or not a number: tokens must expire
  | 'expired'
  | 'not-yet-valid'  // nbf in the future
  | 'issued-in-future'
  | 'no-secret';     // no secret configured: a server fault, answered 503 rather than 401

export interface JwtClaims {
  iss?: string;
  aud?: string | string[];
  sub?: string;
  jti?: string;
  iat?: number;
  exp: number;
  nbf?: number;
  [k: string]: unknown;
}

export type VerifyResult = { ok: true; claims: JwtClaims } | { ok: false; reason: JwtFailure };

/** The active HMAC secrets (current and previous during a rotation); version changes on every change. */
export interface SecretSet {
  readonly version: number;
  secrets(): readonly Buffer[];
}

export interface JwtVerifierOptions {
  secrets: SecretSet;
  /** Accepted iss values (guide 000: 'genesys-cloud'). */
  issuer: string | readonly string[];
  /** Accepted aud values; a token's aud (string or array) must contain one of them. */
  audience: string | readonly string[];
  /** Allowed clock skew for exp, nbf and iat, seconds (default 30). */
  clockToleranceSec?: number;
  /** Verified tokens remembered until their exp (0 disables). Senders reuse one token for many POSTs. */
  cacheSize?: number;
  /** Clock for tests, ms since epoch. */
  now?: () => number;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const HS256_SIG_LEN = 43; // base64url of 32 bytes, unpadded

interface CachedToken { claims: JwtClaims; version: number }

export class JwtVerifier {
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences: ReadonlySet<string>;
  private readonly toleranceSec: number;
  private readonly now: () => number;
  private readonly cache: LRUCache<string, CachedToken> | null;

  constructor(private readonly opts: JwtVerifierOptions) {
    this.issuers = new Set(typeof opts.issuer === 'string' ? [opts.issuer] : opts.issuer);
    this.audiences = new Set(typeof opts.audience === 'string' ? [opts.audience] : opts.audience);
    if (this.issuers.size === 0 || this.audiences.size === 0) throw new Error('issuer and audience are required');
    this.toleranceSec = opts.clockToleranceSec ?? 30;
    this.now = opts.now ?? Date.now;
    const size = opts.cacheSize ?? 1000;
    this.cache = size > 0 ? new LRUCache<string, CachedToken>({ max: size }) : null;
  }

  /** Verifies an Authorization header value ("Bearer <jwt>"). */
  verifyAuthorization(header: string | undefined): VerifyResult {
    if (!header || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return { ok: false, reason: 'missing' };
    return this.verify(header.slice(7).trim());
  }

  verify(token: string): VerifyResult {
    const secrets = this.opts.secrets.secrets();
    if (secrets.length === 0) return { ok: false, reason: 'no-secret' };
    const version = this.opts.secrets.version;
    const nowSec = this.now() / 1000;
    // A cache hit skips only the HMAC and JSON work: times are checked again, and a secret
    // change (rotation, removal) invalidates every entry through the version.
    const hit = this.cache?.get(token);
    if (hit && hit.version === version) return this.checkTimes(hit.claims, nowSec);

    const dot1 = token.indexOf('.');
    const dot2 = token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) return { ok: false, reason: 'malformed' };
    const h = token.slice(0, dot1);
    const p = token.slice(dot1 + 1, dot2);
    const s = token.slice(dot2 + 1);
    if (!B64URL.test(h) || !B64URL.test(p)) return { ok: false, reason: 'malformed' };

    const header = parseJsonObject(h);
    if (!header) return { ok: false, reason: 'malformed' };
    if (header.alg !== 'HS256') return { ok: false, reason: 'algorithm' };
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !/^(application\/)?jwt$/i.test(header.typ))) {
      return { ok: false, reason: 'type' };
    }
    if (header.crit !== undefined) return { ok: false, reason: 'critical' };

    if (s.length !== HS256_SIG_LEN || !B64URL.test(s) || !signatureMatches(`${h}.${p}`, s, secrets)) {
      return { ok: false, reason: 'signature' };
    }

    const claims = parseJsonObject(p) as JwtClaims | null;
    if (!claims) return { ok: false, reason: 'malformed' };
    if (typeof claims.iss !== 'string' || !this.issuers.has(claims.iss)) return { ok: false, reason: 'issuer' };
    if (!this.audienceMatches(claims.aud)) return { ok: false, reason: 'audience' };
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return { ok: false, reason: 'no-expiry' };
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf))) return { ok: false, reason: 'malformed' };
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat))) return { ok: false, reason: 'malformed' };
    const timed = this.checkTimes(claims, nowSec);
    if (timed.ok && this.cache) {
      const ttlMs = Math.max(1, (claims.exp + this.toleranceSec - nowSec) * 1000);
      this.cache.set(token, { claims, version }, { ttl: ttlMs });
    }
    return timed;
  }

  private checkTimes(claims: JwtClaims, nowSec: number): VerifyResult {
    const tol = this.toleranceSec;
    if (nowSec - tol >= claims.exp) return { ok: false, reason: 'expired' };
    if (claims.nbf !== undefined && nowSec + tol < claims.nbf) return { ok: false, reason: 'not-yet-valid' };
    if (claims.iat !== undefined && nowSec + tol < claims.iat) return { ok: false, reason: 'issued-in-future' };
    return { ok: true, claims };
  }

  private audienceMatches(aud: unknown): boolean {
    if (typeof aud === 'string') return this.audiences.has(aud);
    if (Array.isArray(aud)) return aud.some((a) => typeof a === 'string' && this.audiences.has(a));
    return false;
  }
}

function parseJsonObject(b64url: string): Record<string, any> | null {
  try {
    const v = JSON.parse(Buffer.from(b64url, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function signatureMatches(signingInput: string, sig: string, secrets: readonly Buffer[]): boolean {
  // Comparing canonical base64url text avoids lenient decoding of odd signatures.
  const given = Buffer.from(sig, 'latin1');
  let match = false;
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(signingInput).digest('base64url'), 'latin1');
    // Every secret is tried so the time taken does not tell which one matched.
    if (timingSafeEqual(expected, given)) match = true;
  }
  return match;
}

/** Signs an HS256 JWT (the simulator's push sender; tests). */
export function signHs256(claims: Record<string, unknown>, secret: Buffer | string, header: Record<string, unknown> = {}): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${s}`;
}

/** Claims worth carrying on msg.genesys.claims (no custom claims, nothing secret). */
export function claimsForMessage(c: JwtClaims): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.iss !== undefined) out.iss = c.iss;
  if (c.aud !== undefined) out.aud = c.aud;
  if (c.sub !== undefined) out.sub = c.sub;
  if (c.jti !== undefined) out.jti = c.jti;
  if (c.iat !== undefined) out.iat = c.iat;
  return out;
}
