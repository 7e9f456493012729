// genesys-webhook-in inside a real Node-RED set up like red.js: the editor's app (with its global JSON
// body parser) shares the root with httpNode by default, so a webhook body must be read before it.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { jsonHeaders, post } from './node-support';
import { AUD, token } from './support';

const SETTLE = "global.get('tracker').settle(msg, 'stored'); return null;";

function flows(extra: Record<string, unknown> = {}) {
  return [
    { id: 't1', type: 'tab', label: 'real' },
    { id: 'w1', z: 't1', type: 'genesys-webhook-in', path: '/hook', ack: 'delivery', ackTimeout: 3, settlements: 1, maxUnsettled: 1000,
      secretSource: 'env', secretEnv: 'WEBHOOK_TEST_SECRET', audience: AUD, issuer: 'genesys-cloud', clockTolerance: 5, wires: [['f1']], ...extra },
    { id: 'f1', z: 't1', type: 'function', func: SETTLE, outputs: 1, wires: [] },
    // Another route of the same Node-RED that relies on JSON body parsing: it must keep working.
    { id: 'h1', z: 't1', type: 'http in', url: '/other', method: 'post', wires: [['f2']] },
    { id: 'f2', z: 't1', type: 'function', func: 'msg.payload = String(msg.payload.x); return msg;', outputs: 1, wires: [['r1']] },
    { id: 'r1', z: 't1', type: 'http response', statusCode: '', headers: {}, wires: [] },
  ];
}

async function launch(hookPath: string, settings: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'real-node-red.ts')], {
    cwd: path.resolve(__dirname, '../..'), stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NR_FLOWS: JSON.stringify(flows()), NR_SETTINGS: JSON.stringify(settings), WEBHOOK_TEST_SECRET: 'webhook-test-secret-0123456789abcdef', ...env },
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c) => { out += c; const m = /READY (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    child.stderr!.on('data', (c) => { out += c; });
    child.on('exit', (code) => reject(new Error(`Node-RED exited (${code}): ${out}`)));
  });
  // The flows start just after READY: wait for the route.
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const r = await post(`${base}${hookPath}`, '{}', jsonHeaders('x')).catch(() => null);
    if (r && r.status === 401) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return { base, child };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.stdin!.end();
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

describe('genesys-webhook-in in a real Node-RED (editor on the same root)', function () {
  this.timeout(30000);

  it('default roots: reads its own body before the editor body parser; other routes still parse JSON', async () => {
    const { base, child } = await launch('/hook', {});
    try {
      const r = await post(`${base}/hook`, JSON.stringify([{ data: { conversationId: 'c1' }, metadata: { eventId: 'e1' } }, { topicName: 't', eventBody: {} }]), jsonHeaders(token()));
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body), { accepted: 2 });
      assert.equal((await post(`${base}/HOOK/`, '{}', jsonHeaders(token()))).status, 200);
      assert.equal((await post(`${base}/hook`, '{"a":', jsonHeaders(token()))).status, 400);
      assert.equal((await post(`${base}/hook`, '{}', jsonHeaders())).status, 401);
      const other = await post(`${base}/other`, '{"x":5}', { 'content-type': 'application/json' });
      assert.equal(other.status, 200);
      assert.equal(other.body, '5');
      const editor = await fetch(`${base}/`);
      assert.equal(editor.status, 200, 'the editor is still served');
    } finally {
      await stop(child);
    }
  });

  it('httpNodeRoot /api with httpNodeMiddleware: an ordinary route, the body already parsed upstream', async () => {
    const { base, child } = await launch('/api/hook', { httpNodeRoot: '/api' }, { NR_MIDDLEWARE: '1' });
    try {
      const r = await post(`${base}/api/hook`, JSON.stringify({ data: { conversationId: 'c1' }, metadata: { eventId: 'e1' } }), jsonHeaders(token()));
      assert.equal(r.status, 200, r.body);
      assert.ok(Number(r.headers['x-middleware-seen']) >= 1, 'httpNodeMiddleware ran');
      const big = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
      assert.equal((await post(`${base}/api/hook`, big, jsonHeaders(token()))).status, 413);
      assert.equal((await post(`${base}/hook`, '{}', jsonHeaders(token()))).status, 404, 'only below httpNodeRoot');
    } finally {
      await stop(child);
    }
  });
});
