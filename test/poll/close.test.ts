import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Runs the fixture in a child process; resolves with its exit code and how long it lived after printing "closed". */
function runChild(mode: 'node-emit' | 'node-delivery' | 'poller'): Promise<{ code: number | null; lingerMs: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'fixtures', 'close-exit.ts'), mode], {
      cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let closedAt = 0;
    const onData = (d: Buffer): void => { output += d.toString(); if (!closedAt && /^closed$/m.test(output)) closedAt = Date.now(); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const kill = setTimeout(() => { child.kill('SIGKILL'); }, 60_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(kill); resolve({ code, lingerMs: closedAt ? Date.now() - closedAt : -1, output }); });
  });
}

type ChildResult = Awaited<ReturnType<typeof runChild>>;

describe('poll: close leaves no handles', function () {
  this.timeout(90_000);
  // The three children run side by side: each needs a few seconds just to load ts-node and Node-RED.
  let results: Record<'poller' | 'node-emit' | 'node-delivery', Promise<ChildResult>>;
  before(() => {
    results = { poller: runChild('poller'), 'node-emit': runChild('node-emit'), 'node-delivery': runChild('node-delivery') };
  });

  it('the bare poller, stopped mid-request: the process exits by itself', async () => {
    const r = await results.poller;
    assert.equal(r.code, 0, r.output);
    assert.ok(r.lingerMs >= 0 && r.lingerMs < 1500, `exited ${r.lingerMs} ms after close:\n${r.output}`);
  });

  it('the node, closed while polling: the process exits by itself', async () => {
    const r = await results['node-emit'];
    assert.equal(r.code, 0, r.output);
    assert.ok(r.lingerMs >= 0 && r.lingerMs < 1500, `exited ${r.lingerMs} ms after close:\n${r.output}`);
  });

  it('the node, closed while waiting for delivery: exits once the delivery tracker times the page out', async () => {
    // The close itself is prompt; what remains is lib/ingest/delivery-tracker's timeout timer for the
    // abandoned page (ack timeout 2 s here), which has no cancel. The page was not saved, so it comes again.
    const r = await results['node-delivery'];
    assert.equal(r.code, 0, r.output);
    assert.ok(r.lingerMs >= 0 && r.lingerMs < 3500, `exited ${r.lingerMs} ms after close:\n${r.output}`);
  });
});
