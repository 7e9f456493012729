// The guards the webhook fuzz run led to, one by one: nesting depth (text and parsed values, no
// recursion), strict UTF-8, and a receiver that answers 500 instead of throwing into the HTTP server
// when something downstream of emit throws.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventsOf, parseEvents } from '../../lib/ingest/body';
import { DeliveryTracker } from '../../lib/ingest/delivery-tracker';
import { jsonTextTooDeep, valueTooDeep } from '../../lib/ingest/json-depth';
import { JwtVerifier } from '../../lib/ingest/jwt';
import { StaticSecrets } from '../../lib/ingest/secrets';
import { WebhookReceiver, type WebhookReceiverOptions } from '../../lib/ingest/webhook-receiver';
import { FUZZ_AUD, FUZZ_ISS, FUZZ_SECRET, validToken } from './generators/webhook';
import { Rng } from './generators/prng';
import { send } from './support/http';

describe('hostile input: webhook guards', () => {
  it('measures nesting without recursion and ignores brackets inside strings', () => {
    assert.equal(jsonTextTooDeep('[[[]]]', 3), false);
    assert.equal(jsonTextTooDeep('[[[[]]]]', 3), true);
    assert.equal(jsonTextTooDeep('{"a":{"b":[1]}}', 3), false);
    assert.equal(jsonTextTooDeep('{"a":"[[[[[[\\"[[[[","b":[1]}', 2), false, 'strings and escaped quotes do not count');
    assert.equal(jsonTextTooDeep('['.repeat(1_000_000), 100), true);
    assert.equal(jsonTextTooDeep('[1],[2],[3]', 1), false, 'siblings do not add up');
    const deep: any = {};
    let at = deep;
    for (let i = 0; i < 200_000; i++) { at.a = {}; at = at.a; }
    assert.equal(valueTooDeep(deep, 100), true, 'a 200k deep object is measured without a stack overflow');
    assert.equal(valueTooDeep({ a: [{ b: [1] }] }, 4), false);
    assert.equal(valueTooDeep({ a: [{ b: [1] }] }, 3), true);
  });

  it('refuses invalid UTF-8 and too deep bodies with a reason, skips a BOM', () => {
    const bad = parseEvents(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])); // {"a":"\xff"}
    assert.deepEqual(bad, { ok: false, reason: 'body is not valid UTF-8' });
    assert.deepEqual(parseEvents(Buffer.from(`[${'['.repeat(100)}${']'.repeat(100)}]`), 10, 100), { ok: false, reason: 'body nests deeper than 100 levels' });
    assert.deepEqual(eventsOf({ a: [[[[]]]] }, 10, 4), { ok: false, reason: 'body nests deeper than 4 levels' });
    assert.deepEqual(parseEvents(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"é":"😀"}')])), { ok: true, events: [{ é: '😀' }], batched: false });
  });

  describe('a receiver whose emit throws', () => {
    let server: http.Server;
    let url: string;
    let receiver: WebhookReceiver;
    const start = async (opts: Partial<WebhookReceiverOptions>) => {
      const verifier = new JwtVerifier({ secrets: new StaticSecrets([FUZZ_SECRET]), issuer: FUZZ_ISS, audience: FUZZ_AUD });
      receiver = new WebhookReceiver({ verifier, emit: () => { throw new RangeError('Maximum call stack size exceeded'); }, tracker: new DeliveryTracker(), ...opts });
      server = http.createServer(receiver.handle);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    };
    afterEach(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));

    for (const ack of ['delivery', 'receipt'] as const) {
      it(`answers 500 (the sender retries) and keeps serving (ack ${ack})`, async () => {
        await start({ ack, ackTimeoutMs: 200 });
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${validToken(new Rng(3))}` };
        for (let i = 0; i < 3; i++) {
          const r = await send(url, { headers, body: Buffer.from('{"a":1}') }, false);
          assert.equal(r.status, 500);
          assert.equal(r.body, '{"error":"internal error"}');
        }
        assert.equal(receiver.stats.failures, 3);
        assert.equal((await send(url, { headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') }, false)).status, 401);
      });
    }

    it('answers 500 for a body an upstream parser already read (the synchronous path)', async () => {
      await start({ ack: 'receipt' });
      server.removeAllListeners('request');
      server.on('request', (req: any, res) => { req._body = true; req.body = { a: 1 }; req.resume(); req.on('end', () => receiver.handle(req, res)); });
      const r = await send(url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${validToken(new Rng(4))}` }, body: Buffer.from('{"a":1}') }, false);
      assert.equal(r.status, 500);
    });
  });
});
