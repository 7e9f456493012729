import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { helper, jsonHeaders, post, settleInit, startServer, tab, webhookInit } from './node-support';
import { AUD, SECRET, sleep, token } from './support';

const CONV = '5f1c2a3b-1111-4222-8333-944455556666';
const pushEvent = (seq = 1) => ({ data: { conversationId: CONV, type: 'voice', state: 'connected' }, metadata: { eventId: `${CONV}:${seq}`, sequence: seq } });

function flow(props: Record<string, unknown> = {}, settle: 'settle' | 'drop' | 'none' = 'none') {
  const wires = settle === 'none' ? [['out']] : [['out', 'settler']];
  const nodes: any[] = [
    tab,
    { id: 'in', z: 'tab1', type: 'genesys-webhook-in', path: '/hook', ack: 'receipt', audience: AUD, issuer: 'genesys-cloud', clockTolerance: 5, wires, ...props },
    { id: 'out', z: 'tab1', type: 'helper' },
  ];
  if (settle !== 'none') nodes.push({ id: 'settler', z: 'tab1', type: 'test-settle', mode: settle, wires: [] });
  return nodes;
}
// A fresh object per load: the runtime keeps the object it is given and deletes removed nodes' entries from it.
const creds = () => ({ in: { secret: SECRET } });

async function load(props: Record<string, unknown> = {}, settle: 'settle' | 'drop' | 'none' = 'none', credentials: any = creds()) {
  await helper.load([webhookInit, settleInit], flow(props, settle), credentials);
  const n = helper.getNode('in') as any;
  await n.ready;
  const received: any[] = [];
  helper.getNode('out').on('input', (msg: any) => received.push(msg));
  return { node: n, received, url: helper.url() + '/hook' };
}

describe('genesys-webhook-in node', function () {
  this.timeout(10000);
  before(startServer);
  afterEach(() => helper.unload());
  after(() => helper.stopServer());

  it('emits one message per event with payload, key and msg.genesys, for single and batched bodies', async () => {
    const { received, url } = await load();
    const one = await post(url, JSON.stringify(pushEvent(1)), jsonHeaders(token()));
    assert.equal(one.status, 200);
    const batch = await post(url, JSON.stringify([pushEvent(2), pushEvent(3), { topicName: `v2.conversations.${CONV}`, eventBody: {} }]), jsonHeaders(token()));
    assert.equal(batch.status, 200);
    assert.deepEqual(JSON.parse(batch.body), { accepted: 3 });
    await sleep(50);
    assert.equal(received.length, 4);
    const m = received[0];
    assert.deepEqual(m.payload, pushEvent(1));
    assert.equal(m.key, CONV);
    assert.equal(m.genesys.source, 'webhook');
    assert.equal(m.genesys.topicName, 'realtime:interaction');
    assert.ok(Date.parse(m.genesys.receivedAt) > 0);
    assert.deepEqual(Object.keys(m.genesys.claims).sort(), ['aud', 'iat', 'iss', 'jti', 'sub']);
    assert.equal(m.genesys.deliveryId, undefined, 'on receipt: no delivery');
    assert.deepEqual(received.map((r) => r.payload.metadata?.sequence), [1, 2, 3, undefined]);
    assert.equal(received[3].genesys.topicName, `v2.conversations.${CONV}`);
  });

  it('answers 401 with WWW-Authenticate for every JWT failure class and emits nothing', async () => {
    const { node, received, url } = await load();
    const now = Math.floor(Date.now() / 1000);
    const bad: [string, Record<string, string>][] = [
      ['missing header', jsonHeaders()],
      ['bad signature', jsonHeaders(token({}, 'another-secret-0123456789abcdef012345'))],
      ['expired', jsonHeaders(token({ exp: now - 120 }))],
      ['not yet valid', jsonHeaders(token({ nbf: now + 600 }))],
      ['wrong iss', jsonHeaders(token({ iss: 'someone-else' }))],
      ['wrong aud', jsonHeaders(token({ aud: 'other-service' }))],
      ['alg none', jsonHeaders(token({}, SECRET, { alg: 'none' }).replace(/\.[^.]+$/, '.'))],
      ['RS256 header, HS secret', jsonHeaders(token({}, SECRET, { alg: 'RS256' }))],
      ['malformed', jsonHeaders('abc.def')],
      ['not bearer', { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ];
    for (const [label, headers] of bad) {
      const r = await post(url, JSON.stringify(pushEvent()), headers);
      assert.equal(r.status, 401, label);
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm="genesys-webhook"/, label);
      assert.doesNotMatch(r.body, /expired|signature|aud|iss|alg/i, `${label}: no detail for the caller`);
    }
    await sleep(50);
    assert.equal(received.length, 0);
    assert.equal(node.receiver.stats.authFailures, bad.length);
    assert.deepEqual(node.receiver.stats.authFailuresByReason,
      { missing: 2, signature: 1, expired: 1, 'not-yet-valid': 1, issuer: 1, audience: 1, algorithm: 2, malformed: 1 });
  });

  it('answers 400, 413 and 415 with a short reason and emits nothing', async () => {
    const { received, url } = await load({ maxBodyKb: 1 });
    const h = jsonHeaders(token());
    const cases: [number, string | Buffer, Record<string, string>, RegExp][] = [
      [400, '{"data":', h, /not valid JSON/],
      [400, '[]', h, /empty array/],
      [400, '[1,2]', h, /not a JSON object/],
      [413, JSON.stringify({ pad: 'x'.repeat(2000) }), h, /over 1024 bytes/],
      [415, '{}', { ...h, 'content-type': 'text/plain' }, /application\/json/],
      [415, '{}', { ...h, 'content-type': 'application/json; charset=latin1' }, /utf-8/],
      [415, '{}', { ...h, 'content-encoding': 'gzip' }, /content-encoding/],
    ];
    for (const [status, body, headers, re] of cases) {
      const r = await post(url, body, headers);
      assert.equal(r.status, status, String(re));
      assert.match(JSON.parse(r.body).error, re);
    }
    assert.equal((await post(url, '{}', { ...h, 'content-type': 'application/cloudevents+json; charset=UTF-8' })).status, 200);
    await sleep(30);
    assert.equal(received.length, 1);
  });

  it('refuses a 10 MB body early with 413 without buffering it', async () => {
    const { received, url } = await load();
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const before = process.memoryUsage();
    const declared = await post(url, () => Array(160).fill(chunk), { ...jsonHeaders(token()), 'content-length': String(160 * chunk.length) });
    assert.equal(declared.status, 413);
    const chunked = await post(url, function* () { for (let i = 0; i < 160; i++) yield chunk; }, jsonHeaders(token()));
    assert.equal(chunked.status, 413);
    assert.equal(chunked.headers.connection, 'close');
    const after = process.memoryUsage();
    const grown = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1e6;
    assert.ok(grown < 5, `memory grew ${grown.toFixed(1)} MB`);
    assert.equal(received.length, 0);
  });

  it('after delivery: answers 200 only once every event settled (1 or 2 settlements per event)', async () => {
    const { received, url } = await load({ ack: 'delivery', ackTimeout: 2 }, 'settle');
    const r = await post(url, JSON.stringify([pushEvent(1), pushEvent(2)]), jsonHeaders(token()));
    assert.equal(r.status, 200);
    assert.equal(received.length, 2);
    assert.ok(received.every((m) => typeof m.genesys.deliveryId === 'string'));
    assert.equal(deliveryTracker.unsettled, 0);
    await helper.unload();
    // Dual write: one settlement from the test node is not enough when two are expected.
    const dual = await load({ ack: 'delivery', ackTimeout: 0.3, settlements: 2 }, 'settle');
    const t0 = Date.now();
    const half = await post(dual.url, JSON.stringify(pushEvent(3)), jsonHeaders(token()));
    assert.equal(half.status, 503);
    assert.ok(Date.now() - t0 >= 250);
    deliveryTracker.settle(dual.received[0], 'stored'); // late: the delivery already timed out
    assert.equal(deliveryTracker.unsettled, 0);
  });

  it('after delivery: no settlement → 503 with Retry-After after the timeout', async () => {
    const { node, url } = await load({ ack: 'delivery', ackTimeout: 0.2 }, 'drop');
    const t0 = Date.now();
    const r = await post(url, JSON.stringify(pushEvent()), jsonHeaders(token()));
    assert.equal(r.status, 503);
    assert.ok(Number(r.headers['retry-after']) >= 1);
    assert.ok(Date.now() - t0 >= 180);
    assert.equal(node.receiver.stats.timedOut, 1);
  });

  it('backpressure: over maxUnsettled answers 503 (or 429) with Retry-After at once', async () => {
    for (const status of ['503', '429']) {
      const { node, url } = await load({ ack: 'delivery', ackTimeout: 0.4, maxUnsettled: 3, overloadStatus: status }, 'drop');
      const waiting = post(url, JSON.stringify([pushEvent(1), pushEvent(2), pushEvent(3)]), jsonHeaders(token()));
      await sleep(50);
      assert.equal(deliveryTracker.unsettled, 3);
      const t0 = Date.now();
      const r = await post(url, JSON.stringify(pushEvent(4)), jsonHeaders(token()));
      assert.equal(r.status, Number(status));
      assert.ok(Date.now() - t0 < 200, 'answered at once');
      assert.ok(Number(r.headers['retry-after']) >= 1 && Number(r.headers['retry-after']) <= 60);
      assert.equal(node.receiver.stats.overloaded, 1);
      assert.equal((await waiting).status, 503);
      await helper.unload();
    }
  });

  it('answers requests still waiting with 503 when the node closes', async () => {
    const { url } = await load({ ack: 'delivery', ackTimeout: 5 }, 'drop');
    const waiting = post(url, JSON.stringify(pushEvent()), jsonHeaders(token()));
    await sleep(50);
    await helper.unload();
    const r = await waiting;
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
  });

  it('rotation through a secrets file: old and new during the overlap, then old refused, no restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5-rot-'));
    const file = path.join(dir, 'webhook-secrets');
    const OLD = SECRET;
    const NEW = 'rotated-secret-abcdef0123456789abcdef01';
    fs.writeFileSync(file, `${OLD}\n`);
    try {
      const { url, received } = await load({ secretSource: 'file', secretFile: file, secretPollMs: 30 }, 'none', {});
      const send = (s: string) => post(url, JSON.stringify(pushEvent()), jsonHeaders(token({}, s)));
      assert.equal((await send(OLD)).status, 200);
      assert.equal((await send(NEW)).status, 401);
      fs.writeFileSync(file, `${NEW}\n${OLD}\n`);
      await sleep(150);
      assert.equal((await send(NEW)).status, 200, 'new accepted during overlap');
      assert.equal((await send(OLD)).status, 200, 'old still accepted during overlap');
      fs.writeFileSync(file, `${NEW}\n`);
      await sleep(150);
      assert.equal((await send(OLD)).status, 401, 'old refused after removal');
      assert.equal((await send(NEW)).status, 200);
      await sleep(30);
      assert.equal(received.length, 4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('secrets from credentials (current + previous, base64) and from environment variables', async () => {
    const raw = Buffer.from('0123456789abcdef0123456789abcdef-raw');
    let n = await load({ secretEncoding: 'base64' }, 'none', { in: { secret: raw.toString('base64'), previousSecret: Buffer.from(SECRET).toString('base64') } });
    assert.equal((await post(n.url, '{}', jsonHeaders(token({}, raw)))).status, 200);
    assert.equal((await post(n.url, '{}', jsonHeaders(token({}, SECRET)))).status, 200);
    await helper.unload();
    process.env.H5_WEBHOOK_SECRET = SECRET;
    try {
      n = await load({ secretSource: 'env', secretEnv: 'H5_WEBHOOK_SECRET, H5_UNSET' }, 'none', {});
      assert.equal((await post(n.url, '{}', jsonHeaders(token()))).status, 200);
    } finally {
      delete process.env.H5_WEBHOOK_SECRET;
    }
  });

  it('no secret configured: red status, an error, and 503 (the sender retries) instead of 401', async () => {
    const { node, url } = await load({}, 'none', {});
    assert.ok(node.error.args.some((a: any[]) => /errors\.no-secret/.test(String(a[0]))), 'error reported');
    const r = await post(url, '{}', jsonHeaders(token()));
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '30');
    const status = node.status.args.map((a: any[]) => a[0]);
    assert.ok(status.some((s: any) => s.fill === 'red' && s.text === 'genesys-webhook-in.status.no-secret'));
  });

  it('removes its route on close and moves it on redeploy', async () => {
    const { url } = await load();
    assert.equal((await post(url, '{}', jsonHeaders(token()))).status, 200);
    const changed = flow({ path: '/moved' });
    await helper.setFlows(changed, 'nodes', creds());
    await (helper.getNode('in') as any).ready;
    assert.equal((await post(url, '{}', jsonHeaders(token()))).status, 404, 'old path gone');
    assert.equal((await post(helper.url() + '/moved', '{}', jsonHeaders(token()))).status, 200);
    await helper.unload();
    assert.equal((await post(helper.url() + '/moved', '{}', jsonHeaders(token()))).status, 404);
  });

  it('runs behind httpNodeMiddleware when settings define it', async () => {
    const seen: string[] = [];
    const saved = helper.settings();
    helper.settings({ httpNodeMiddleware: (req: any, res: any, next: () => void) => {
      seen.push(req.url);
      if (req.headers['x-block']) { res.statusCode = 403; res.end(); return; }
      next();
    } });
    try {
      const { url, received } = await load();
      assert.equal((await post(url, '{}', jsonHeaders(token()))).status, 200);
      assert.equal((await post(url, '{}', { ...jsonHeaders(token()), 'x-block': '1' })).status, 403);
      assert.deepEqual(seen, ['/hook', '/hook']);
      await sleep(20);
      assert.equal(received.length, 1);
    } finally {
      helper.settings({ ...saved, httpNodeMiddleware: undefined });
    }
  });

  it('matches its path like Express (case, trailing slash, query) and leaves other routes alone', async () => {
    const { received } = await load();
    for (const p of ['/hook', '/HOOK', '/hook/', '/hook?x=1']) assert.equal((await post(helper.url() + p, '{}', jsonHeaders(token()))).status, 200, p);
    assert.equal((await post(helper.url() + '/hooks', '{}', jsonHeaders(token()))).status, 404);
    await sleep(20);
    assert.equal(received.length, 4);
  });

  it('dedicated listener: own port, same verification, 404/405 elsewhere', async () => {
    const { node, received } = await load({ listener: 'dedicated', port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${node.listenerPort}`;
    assert.equal((await post(base + '/hook', JSON.stringify(pushEvent()), jsonHeaders(token()))).status, 200);
    assert.equal((await post(base + '/hook', '{}', jsonHeaders())).status, 401);
    assert.equal((await post(base + '/other', '{}', jsonHeaders(token()))).status, 404);
    await sleep(20);
    assert.equal(received.length, 1);
    await helper.unload();
    await assert.rejects(post(base + '/hook', '{}', jsonHeaders(token())), /ECONNREFUSED/);
  });

  it('filter validation: admin endpoint and on deploy', async () => {
    const { node } = await load({ filter: "wrapUpCode.code == 'SALE'" });
    const status = node.status.args.map((a: any[]) => a[0]);
    assert.ok(status.some((s: any) => s.fill === 'red' && s.text === 'genesys-webhook-in.status.bad-filter'));
    const check = async (filter: unknown) => (await helper.request().post('/genesys-webhook-in/validate-filter').send({ filter })).body;
    assert.deepEqual(await check("type == 'voice' && queue.id != null"), { ok: true });
    assert.match((await check("priority == 'high'")).error, /unknown field 'priority'/);
    assert.match((await check('customer.phoneNumber != null')).error, /nested paths/);
    const syntax = await check("type == 'voice' &&");
    assert.equal(syntax.ok, false);
    assert.match(syntax.error, /ends too early/);
    const res = await helper.request().post('/genesys-webhook-in/validate-filter').send({});
    assert.equal(res.status, 400);
  });
});
