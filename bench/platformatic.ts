// Runs baseline 1b (platformatic-raw.ts) with Node 22: the npm registry ships Node itself as the
// `node` package, so Node 22 and @platformatic/kafka are installed at bench time into git-ignored
// folders under .cache/bench (never project dependencies) and reused on later runs.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchCache, repoRoot } from './snapshot';

const NODE22_DIR = path.join(benchCache, 'node22');
const CLIENT_DIR = path.join(benchCache, 'platformatic');
export const PLATFORMATIC_SPEC = '@platformatic/kafka@2';

function npmInstall(prefix: string, spec: string, log: (line: string) => void): void {
  log(`installing ${spec} into ${path.relative(repoRoot, prefix)}…`);
  fs.mkdirSync(prefix, { recursive: true });
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, spec], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm install ${spec} failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-5).join(' ')}`);
  }
}

/** Node 22's binary and @platformatic/kafka's entry point, installing what is missing. */
export function ensurePlatformatic(log: (line: string) => void): { node: string; modulePath: string; version: string } {
  const node = path.join(NODE22_DIR, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(node)) npmInstall(NODE22_DIR, 'node@22', log);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const pkg = path.join(CLIENT_DIR, 'node_modules', '@platformatic', 'kafka');
  if (!fs.existsSync(path.join(pkg, 'package.json'))) npmInstall(CLIENT_DIR, PLATFORMATIC_SPEC, log);
  const clientVersion = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version as string;
  return { node, modulePath: path.join(pkg, 'dist', 'index.js'), version: `@platformatic/kafka ${clientVersion} on Node ${version}` };
}

/** One run of the raw @platformatic/kafka producer in a Node 22 child; resolves msgs/s. */
export function runPlatformatic(node: string, modulePath: string, brokers: string[], topic: string, total: number): Promise<number> {
  const args = ['-r', path.join(repoRoot, 'node_modules', 'ts-node', 'register', 'transpile-only'), path.join(__dirname, 'platformatic-raw.ts'),
    JSON.stringify({ modulePath, brokers, topic, total })];
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /^RESULT (.*)$/m.exec(out);
      if (m) resolve((JSON.parse(m[1]) as { rate: number }).rate);
      else reject(new Error(`@platformatic/kafka run exited ${code}: ${out.trim().slice(-800)}`));
    });
  });
}
