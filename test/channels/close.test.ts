import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { redisUrl } from '../fixtures/env';

function runChild(): Promise<{ code: number | null; lingerMs: number; output: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'fixtures', 'close-exit.ts')], {
      cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: redisUrl() },
    });
    let output = '';
    let closedAt = 0;
    const onData = (d: Buffer): void => { output += d.toString(); if (!closedAt && /^closed$/m.test(output)) closedAt = Date.now(); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const kill = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(kill); resolve({ code, lingerMs: closedAt ? Date.now() - closedAt : -1, output, pid: child.pid ?? 0 }); });
  });
}

describe('genesys-ws-in: stop and redeploy close every socket and timer', function () {
  this.timeout(30_000);

  it('the process exits by itself after redeploy and close (both modes, backfill, Redis janitor, reconnect backoff)', async () => {
    const r = await runChild();
    assert.equal(r.code, 0, r.output);
    assert.ok(r.lingerMs >= 0 && r.lingerMs < 1500, `exited ${r.lingerMs} ms after close:\n${r.output}`);
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`close-exit-${r.pid}:*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });
});
