import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseSimulatorArgs, startSimulatorCli, type RunningSimulator } from '../../simulator/cli';
import { TokenManager } from '../../lib/genesys/token-manager';

describe('simulator command line', () => {
  let running: RunningSimulator | null = null;
  afterEach(async () => { await running?.stop(); running = null; });

  it('parses its options and rejects bad ones', () => {
    assert.deepEqual(parseSimulatorArgs(['--port', '0', '--mode=guide', '--rate', '2.5', '--api-rate-limit', '0', '--token-lifetime', '300']), {
      port: 0, host: '127.0.0.1', mode: 'guide', rate: 2.5, apiRateLimit: 0, tokenLifetimeSeconds: 300, clientId: 'sim-client-id', clientSecret: 'sim-client-secret',
    });
    assert.equal(parseSimulatorArgs([]).port, 8990);
    assert.throws(() => parseSimulatorArgs(['--mode', 'cloud']), /platform or guide/);
    assert.throws(() => parseSimulatorArgs(['--port', '70000']), /0\.\.65535/);
    assert.throws(() => parseSimulatorArgs(['--rate']), /--rate needs a number/);
    assert.throws(() => parseSimulatorArgs(['--token-lifetime', '0']), />= 1/);
    assert.throws(() => parseSimulatorArgs(['--frobnicate']), /unknown option --frobnicate/);
  });

  it('starts the simulator and prints the URL, the client and env lines that work', async () => {
    const lines: string[] = [];
    running = await startSimulatorCli({ ...parseSimulatorArgs(['--port', '0', '--rate', '0', '--client-secret', 'demo-secret']) }, (l) => lines.push(l));
    const base = running.sim.baseUrl;
    const text = lines.join('\n');
    assert.match(text, new RegExp(`listening on ${base}`));
    assert.ok(lines.includes(`  export GENESYS_BASE_URL=${base}`));
    assert.ok(lines.includes('  export GENESYS_CLIENT_ID=sim-client-id'));
    assert.ok(lines.includes('  export GENESYS_CLIENT_SECRET=demo-secret'));
    const tm = new TokenManager({ tokenUrl: `${base}/oauth/token`, clientId: 'sim-client-id', clientSecret: 'demo-secret' });
    assert.ok(await tm.getToken());
    tm.close();
  });

  it('starts traffic from simulator/traffic when asked', async () => {
    const lines: string[] = [];
    running = await startSimulatorCli(parseSimulatorArgs(['--port', '0', '--rate', '20']), (l) => lines.push(l));
    assert.ok(lines.includes('Traffic: 20 conversation(s) per second'), lines.join('\n'));
    const t0 = Date.now();
    while (running.sim.world.conversations.size === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(running.sim.world.conversations.size > 0, 'the generator started conversations');
  });

  it('bin/cli.ts: `simulator` runs until SIGTERM; bad input exits 2', async function () {
    this.timeout(20000);
    const root = path.join(__dirname, '../..');
    const run = (args: string[]) => spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const bad = run(['simulator', '--mode', 'x']);
    let badErr = '';
    bad.stderr.on('data', (d) => { badErr += d; });
    assert.equal(await new Promise((r) => bad.on('exit', r)), 2);
    assert.match(badErr, /--mode needs platform or guide/);
    const child = run(['simulator', '--port', '0', '--rate', '0']);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 15000);
      child.stdout.on('data', (d) => { out += d; if (/Press Ctrl\+C/.test(out)) { clearTimeout(timer); resolve(); } });
    });
    const url = /listening on (http:\/\/\S+)/.exec(out)![1];
    const res = await fetch(`${url}/api/v2/conversations/x`);
    assert.equal(res.status, 401);
    child.kill('SIGTERM');
    assert.equal(await new Promise((r) => child.on('exit', r)), 0);
  });
});
