// Generated webhook requests: valid pushes interleaved with every class of bad token and bad body.
// Each case says which answers are correct, and how many events a correct server emits for it
// (0 for every refused request), so the fuzz test can compare with what reached the flow.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Rng } from './prng';

export const FUZZ_SECRET = 'hostile-fuzz-signing-secret-0123456789abcdef';
export const FUZZ_ISS = 'genesys-cloud';
export const FUZZ_AUD = 'hostile-ingestion-service';

export interface FuzzRequest {
  cls: string;
  /** Correct answers; 'closed' = the server may drop the connection without an answer. */
  expect: (number | 'closed')[];
  headers: Record<string, string>;
  /** A buffer (sent with Content-Length), or chunks (sent chunked). */
  body: Buffer | Buffer[];
  /** Events emitted when the answer is 200. */
  events: number;
}

export interface WebhookGenOptions {
  /** The node's maxBodyKb × 1024. */
  bodyLimit: number;
  /** The receiver's maxEventsPerRequest (10 000). */
  maxEvents: number;
}

const b64 = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
const json64 = (v: unknown): string => b64(JSON.stringify(v));

/** Signing keys of other algorithms, made once per process (RS256/ES256 tokens, key confusion). */
let keys: { rsa: { privateKey: KeyObject; publicPem: string }; ec: KeyObject } | null = null;
function otherKeys() {
  if (!keys) {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys = { rsa: { privateKey: rsa.privateKey, publicPem: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() }, ec: ec.privateKey };
  }
  return keys;
}

export function claims(rng: Rng, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: FUZZ_ISS, aud: FUZZ_AUD, iat: now - rng.int(0, 20), exp: now + rng.int(60, 600), jti: rng.uuid(), sub: rng.text(1, 12), ...extra };
}

export function hs256(payload: Record<string, unknown>, secret: string | Buffer = FUZZ_SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export const validToken = (rng: Rng): string => hs256(claims(rng));

// ---- events -----------------------------------------------------------------------------------

function participants(rng: Rng, queueId: string): unknown[] {
  return [
    { id: rng.uuid(), purpose: 'customer', address: `tel:+1555${rng.int(1000000, 9999999)}`, calls: [{ id: rng.uuid(), state: rng.pick(['ALERTING', 'connected', 'DISCONNECTED']) }] },
    { id: rng.uuid(), purpose: rng.pick(['agent', 'acd']), queueId, userId: rng.uuid(), name: rng.text(0, 16), attributes: { note: rng.text() } },
  ];
}

/** One valid event in one of the envelopes webhook-in accepts. */
export function validEvent(rng: Rng): Record<string, unknown> {
  const conv = rng.uuid();
  const queueId = rng.uuid();
  switch (rng.int(0, 4)) {
    case 0: return { data: { conversationId: conv, type: rng.pick(['voice', 'chat', 'email', 'sms']), state: rng.text(1, 10), queue: { id: queueId } }, metadata: { eventId: rng.uuid(), sequence: rng.int(0, 1e6) } };
    case 1: return { topicName: `v2.routing.queues.${queueId}.conversations`, version: '2', eventBody: { id: conv, participants: participants(rng, queueId) }, metadata: { CorrelationId: rng.uuid() } };
    case 2: return { 'detail-type': `v2.conversations.${conv}.customer.start`, source: 'aws.partner/genesys.com/cloud/org/suffix', detail: { topicName: `v2.detail.events.conversation.${conv}.customer.start`, version: '2', eventBody: { conversationId: conv, note: rng.text() } } };
    case 3: return { id: conv, participants: participants(rng, queueId), [rng.text(1, 8)]: rng.text() };
    default: return { [`x-${rng.text(1, 8)}`]: rng.text(), nested: { list: [rng.int(0, 9), rng.text(), null, true] } };
  }
}

function validBatch(rng: Rng): { body: string; events: number } {
  if (rng.bool(0.4)) return { body: JSON.stringify(validEvent(rng)), events: 1 };
  const n = rng.int(1, 6);
  return { body: JSON.stringify(Array.from({ length: n }, () => validEvent(rng))), events: n };
}

const jsonHeaders = (token?: string, type = 'application/json'): Record<string, string> =>
  ({ 'content-type': type, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) });

// ---- the cases ------------------------------------------------------------------------------------

type Build = (rng: Rng, o: WebhookGenOptions) => Omit<FuzzRequest, 'cls'>;

const refusedToken = (token: string | undefined, rng: Rng, authorization?: string): Omit<FuzzRequest, 'cls'> => {
  const { body } = validBatch(rng);
  const headers = jsonHeaders(token);
  if (authorization !== undefined) headers.authorization = authorization;
  return { expect: [401], headers, body: Buffer.from(body), events: 0 };
};

/** Bad bodies behind a valid token. */
const signedBody = (status: number, body: Buffer | Buffer[], rng: Rng, type = 'application/json', extra: Record<string, string> = {}): Omit<FuzzRequest, 'cls'> =>
  ({ expect: [status], headers: { ...jsonHeaders(validToken(rng), type), ...extra }, body, events: 0 });

function tamper(token: string, rng: Rng): string {
  const [h, p, s] = token.split('.');
  const claimsOf = JSON.parse(Buffer.from(p, 'base64url').toString());
  claimsOf[rng.pick(['sub', 'jti', 'role'])] = rng.text(1, 10);
  return `${h}.${json64(claimsOf)}.${s}`;
}

/** Flips one signature character to another base64url character. */
function flipSignature(token: string, rng: Rng): string {
  const i = token.lastIndexOf('.') + 1 + rng.int(0, 41);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const c = alphabet.replace(token[i], '')[rng.int(0, 62)];
  return token.slice(0, i) + c + token.slice(i + 1);
}

const NESTING = 100_000;

export const CASES: Record<string, { weight: number; build: Build }> = {
  // ---- accepted
  'valid': { weight: 30, build: (rng) => { const b = validBatch(rng); return { expect: [200], headers: jsonHeaders(validToken(rng)), body: Buffer.from(b.body), events: b.events }; } },
  'valid chunked': { weight: 3, build: (rng) => {
    const b = Buffer.from(validBatch(rng).body);
    const cut = rng.int(1, b.length - 1);
    return { expect: [200], headers: jsonHeaders(validToken(rng)), body: [b.subarray(0, cut), b.subarray(cut)], events: ((v) => (Array.isArray(v) ? v.length : 1))(JSON.parse(b.toString())) };
  } },
  'valid +json type, charset, lowercase bearer': { weight: 2, build: (rng) => {
    const b = validBatch(rng);
    const type = rng.pick(['application/cloudevents+json; charset=UTF-8', 'Application/JSON', 'application/json;charset="utf-8"', 'application/json; charset=utf8']);
    return { expect: [200], headers: { 'content-type': type, authorization: `bearer ${validToken(rng)}`, 'content-encoding': 'identity' }, body: Buffer.from(b.body), events: b.events };
  } },
  'valid 10k events (the per-request maximum)': { weight: 0.02, build: (rng, o) =>
    ({ expect: [200], headers: jsonHeaders(validToken(rng)), body: Buffer.from(JSON.stringify(Array.from({ length: o.maxEvents }, (_, i) => ({ i })))), events: o.maxEvents }) },

  // ---- bad tokens: 401
  'no authorization': { weight: 3, build: (rng) => refusedToken(undefined, rng) },
  'not a bearer': { weight: 2, build: (rng) => refusedToken(undefined, rng, rng.pick([`Basic ${b64('a:b')}`, 'Bearer', 'Bearer ', 'Token abc', `Bearer${validToken(rng)}`, `Digest ${validToken(rng)}`])) },
  'bad signature (other secret)': { weight: 3, build: (rng) => refusedToken(hs256(claims(rng), 'another-secret-0123456789abcdefghijkl'), rng) },
  'flipped signature character': { weight: 2, build: (rng) => refusedToken(flipSignature(validToken(rng), rng), rng) },
  'tampered payload': { weight: 2, build: (rng) => refusedToken(tamper(validToken(rng), rng), rng) },
  'truncated signature': { weight: 1, build: (rng) => { const t = validToken(rng); return refusedToken(t.slice(0, t.length - rng.int(1, 20)), rng); } },
  'padded signature': { weight: 1, build: (rng) => refusedToken(`${validToken(rng)}=`, rng) },
  'expired': { weight: 2, build: (rng) => { const now = Math.floor(Date.now() / 1000); return refusedToken(hs256(claims(rng, { iat: now - 4000, exp: now - rng.int(60, 3600) })), rng); } },
  'nbf in the future': { weight: 2, build: (rng) => refusedToken(hs256(claims(rng, { nbf: Math.floor(Date.now() / 1000) + rng.int(120, 86400) })), rng) },
  'iat in the future': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng, { iat: Math.floor(Date.now() / 1000) + rng.int(600, 86400) })), rng) },
  'wrong iss': { weight: 2, build: (rng) => refusedToken(hs256(claims(rng, { iss: rng.pick(['someone-else', '', 42, null, ['genesys-cloud'], 'GENESYS-CLOUD']) })), rng) },
  'missing iss': { weight: 1, build: (rng) => { const c = claims(rng); delete c.iss; return refusedToken(hs256(c), rng); } },
  'wrong aud': { weight: 2, build: (rng) => refusedToken(hs256(claims(rng, { aud: rng.pick(['other-service', [], ['a', 'b'], 7, null, { aud: FUZZ_AUD }]) })), rng) },
  'missing exp': { weight: 1, build: (rng) => { const c = claims(rng); delete c.exp; return refusedToken(hs256(c), rng); } },
  'exp not a number': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng, { exp: rng.pick(['9999999999', null, true, [1], { n: 1 }]) })), rng) },
  'exp infinite': { weight: 0.5, build: (rng) => {
    const h = json64({ alg: 'HS256', typ: 'JWT' });
    const p = b64(`{"iss":"${FUZZ_ISS}","aud":"${FUZZ_AUD}","exp":1e400}`);
    return refusedToken(`${h}.${p}.${createHmac('sha256', FUZZ_SECRET).update(`${h}.${p}`).digest('base64url')}`, rng);
  } },
  'nbf or iat not a number': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng, { [rng.pick(['nbf', 'iat'])]: rng.pick(['0', null, {}]) })), rng) },
  'alg none': { weight: 3, build: (rng) => {
    const t = hs256(claims(rng), FUZZ_SECRET, { alg: rng.pick(['none', 'None', 'NONE', 'nOnE']), typ: 'JWT' });
    return refusedToken(rng.bool() ? t.replace(/\.[^.]+$/, '.') : t, rng);
  } },
  'alg HS512 (signed with the secret)': { weight: 1, build: (rng) => {
    const input = `${json64({ alg: 'HS512', typ: 'JWT' })}.${json64(claims(rng))}`;
    return refusedToken(`${input}.${createHmac('sha512', FUZZ_SECRET).update(input).digest('base64url')}`, rng);
  } },
  'alg HS384 / lower-case / array / missing': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng), FUZZ_SECRET, rng.pick([{ alg: 'HS384' }, { alg: 'hs256' }, { alg: ['HS256'] }, { typ: 'JWT' }, { alg: 'HS256 ' }])), rng) },
  'RS256 (real RSA signature)': { weight: 1, build: (rng) => {
    const input = `${json64({ alg: 'RS256', typ: 'JWT' })}.${json64(claims(rng))}`;
    return refusedToken(`${input}.${sign('sha256', Buffer.from(input), otherKeys().rsa.privateKey).toString('base64url')}`, rng);
  } },
  'ES256 (real EC signature)': { weight: 1, build: (rng) => {
    const input = `${json64({ alg: 'ES256', typ: 'JWT' })}.${json64(claims(rng))}`;
    return refusedToken(`${input}.${sign('sha256', Buffer.from(input), { key: otherKeys().ec, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`, rng);
  } },
  'key confusion (HS256 keyed with the RSA public key)': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng), otherKeys().rsa.publicPem), rng) },
  'RS256 header, HMAC signature with the secret': { weight: 1, build: (rng) => refusedToken(hs256(claims(rng), FUZZ_SECRET, { alg: 'RS256', typ: 'JWT' }), rng) },
  'typ not JWT': { weight: 0.5, build: (rng) => refusedToken(hs256(claims(rng), FUZZ_SECRET, { alg: 'HS256', typ: rng.pick(['JWE', 'at+jwt', 1]) }), rng) },
  'crit header': { weight: 0.5, build: (rng) => refusedToken(hs256(claims(rng), FUZZ_SECRET, { alg: 'HS256', crit: ['exp'] }), rng) },
  'missing or extra segments': { weight: 2, build: (rng) => {
    const t = validToken(rng);
    const [h, p, s] = t.split('.');
    return refusedToken(rng.pick([h, `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${t}.`, `.${p}.${s}`, `${h}..${s}`, `${h}.${p}.${s}.${p}.${s}`, '...', '.']), rng);
  } },
  'non-base64url characters': { weight: 2, build: (rng) => {
    const t = validToken(rng);
    const i = rng.int(0, t.length - 1);
    if (t[i] === '.') return refusedToken(`${t}+`, rng);
    return refusedToken(t.slice(0, i) + rng.pick(['+', '/', '=', '%', '~', '!', '*', '$']) + t.slice(i + 1), rng);
  } },
  'non-JSON header or payload': { weight: 2, build: (rng) => {
    const garbage = rng.pick([b64('not json'), b64('{"alg":"HS256"'), b64('[1,2]'), b64('null'), b64(rng.bytes(rng.int(1, 40))), b64('"HS256"'), b64('{"alg":"HS256"}\u0000')]);
    const payload = json64(claims(rng));
    const header = json64({ alg: 'HS256', typ: 'JWT' });
    const [h, p] = rng.bool() ? [garbage, payload] : [header, garbage];
    return refusedToken(`${h}.${p}.${createHmac('sha256', FUZZ_SECRET).update(`${h}.${p}`).digest('base64url')}`, rng);
  } },
  'huge token (under the header limit)': { weight: 0.5, build: (rng) => refusedToken(hs256(claims(rng, { pad: 'x'.repeat(rng.int(4000, 9000)) }), 'wrong-secret-0123456789abcdef0123456789'), rng) },
  'huge token (over the 16 KB header limit)': { weight: 0.2, build: (rng) => ({ ...refusedToken(`${'a'.repeat(rng.int(17_000, 40_000))}.b.c`, rng), expect: [431, 'closed'] }) },

  // ---- bad bodies behind a valid token
  'truncated JSON': { weight: 4, build: (rng) => { const b = validBatch(rng).body; return signedBody(400, Buffer.from(b.slice(0, rng.int(1, b.length - 1))), rng); } },
  'garbage bytes': { weight: 2, build: (rng) => signedBody(400, Buffer.concat([Buffer.from(rng.pick(['', '{', '[', 'x'])), rng.bytes(rng.int(1, 200))]), rng) },
  'empty body': { weight: 1, build: (rng) => signedBody(400, Buffer.alloc(0), rng) },
  'JSON that is not an event': { weight: 2, build: (rng) => signedBody(400, Buffer.from(rng.pick(['null', '1', '"s"', 'true', '[]', '[1,2]', '[{},null]', '[{}, []]', '[[{}]]', '  ', '{}{}', '{} x'])), rng) },
  'invalid UTF-8': { weight: 3, build: (rng) => {
    const bad = rng.pick([[0xc3, 0x28], [0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
    const inKey = rng.bool(0.3);
    const body = Buffer.concat([Buffer.from(inKey ? '{"' : '{"note":"'), Buffer.from(bad), Buffer.from(inKey ? '":1}' : '"}')]);
    return signedBody(400, body, rng);
  } },
  // RFC 8259 lets a parser ignore a byte order mark: it is skipped, the event is accepted.
  'UTF-8 BOM': { weight: 0.5, build: (rng) => ({ ...signedBody(200, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(validEvent(rng)))]), rng), events: 1 }) },
  'deep nesting: arrays': { weight: 0.1, build: (rng) => signedBody(400, Buffer.from('['.repeat(NESTING) + ']'.repeat(NESTING)), rng) },
  'deep nesting: objects': { weight: 0.1, build: (rng) => signedBody(400, Buffer.from('{"":'.repeat(NESTING) + '1' + '}'.repeat(NESTING)), rng) },
  'deep nesting inside an event': { weight: 0.5, build: (rng) => {
    const d = rng.pick([99, 100, rng.int(101, 5000)]); // the body nests d + 2 levels: over the limit of 100
    return signedBody(400, Buffer.from(`[{"data":{"conversationId":"c"},"metadata":{"eventId":"e"},"x":${'['.repeat(d)}${']'.repeat(d)}}]`), rng);
  } },
  'nesting at the limit (accepted)': { weight: 0.5, build: (rng) => {
    // 98 levels inside the event's "x" (100 in the body), each with a string full of brackets and escapes that must not count.
    const level = '["{[\\"\\\\",';
    return { ...signedBody(200, Buffer.from(`[{"data":{"conversationId":"c"},"metadata":{"eventId":"e"},"x":${level.repeat(98)}0${']'.repeat(98)}}]`), rng), events: 1 };
  } },
  'brackets inside strings (accepted)': { weight: 0.5, build: (rng) =>
    ({ ...signedBody(200, Buffer.from(JSON.stringify({ note: '['.repeat(rng.int(101, 5000)) + '{"\\'.repeat(50) })), rng), events: 1 }) },
  'deep nesting, unterminated': { weight: 0.1, build: (rng) => signedBody(400, Buffer.from('['.repeat(NESTING)), rng) },
  'huge array: 100k events': { weight: 0.1, build: (rng) => signedBody(400, Buffer.from(`[${Array(100_000).fill('{}').join(',')}]`), rng) },
  'huge array: 100k numbers': { weight: 0.1, build: (rng) => signedBody(400, Buffer.from(`[${Array(100_000).fill('1').join(',')}]`), rng) },
  'one over the event limit': { weight: 0.05, build: (rng, o) => signedBody(400, Buffer.from(`[${Array(o.maxEvents + 1).fill('{}').join(',')}]`), rng) },
  'oversized body (Content-Length)': { weight: 0.3, build: (rng, o) => ({ ...signedBody(413, Buffer.alloc(o.bodyLimit + rng.int(1, o.bodyLimit), 0x20), rng), expect: [413, 'closed'] }) },
  'oversized body (chunked)': { weight: 0.3, build: (rng, o) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    return { ...signedBody(413, Array(Math.ceil((o.bodyLimit * 1.5) / chunk.length)).fill(chunk), rng), expect: [413, 'closed'] };
  } },
  'exactly one byte over the limit': { weight: 0.2, build: (rng, o) => ({ ...signedBody(413, Buffer.from(`{"p":"${'x'.repeat(o.bodyLimit - 7)}"}`), rng), expect: [413, 'closed'] }) },
  'wrong content type': { weight: 3, build: (rng) => signedBody(415, Buffer.from(validBatch(rng).body), rng,
    rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'json', 'application/json-patch', '*/*', 'text/json'])) },
  'no content type': { weight: 1, build: (rng) => ({ expect: [415], headers: { authorization: `Bearer ${validToken(rng)}` }, body: Buffer.from(validBatch(rng).body), events: 0 }) },
  'wrong charset': { weight: 1, build: (rng) => signedBody(415, Buffer.from(validBatch(rng).body), rng, `application/json; charset=${rng.pick(['latin1', 'utf-16', 'UTF-16LE', 'iso-8859-1', 'ascii'])}`) },
  'compressed body': { weight: 1, build: (rng) => {
    const enc = rng.pick(['gzip', 'deflate', 'br', 'compress', 'x-gzip']);
    return signedBody(415, gzipSync(validBatch(rng).body), rng, 'application/json', { 'content-encoding': enc });
  } },
};

/** The next generated request. */
export function webhookRequest(rng: Rng, o: WebhookGenOptions): FuzzRequest {
  const weights = Object.fromEntries(Object.entries(CASES).map(([k, v]) => [k, v.weight]));
  const cls = rng.weighted(weights);
  return { cls, ...CASES[cls].build(rng, o) };
}
