// The package the benchmark measures: a snapshot of the sources in .cache/bench/pkg built with the
// project's own scripts/build.js, so Node-RED loads compiled dist/ code as a user's install would,
// while the working tree's dist/ (which tests and other tools use) is left alone.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..');
export const benchCache = path.join(repoRoot, '.cache', 'bench');
const SOURCES = ['package.json', 'tsconfig.json', 'scripts', 'lib', 'nodes', 'simulator', 'bin', 'harness', 'locales', 'icons', 'flows', 'schemas'];

/** Copies the sources and runs scripts/build.js on the copy; returns the package folder. */
export function buildSnapshot(log: (line: string) => void): string {
  const pkg = path.join(benchCache, 'pkg');
  fs.rmSync(pkg, { recursive: true, force: true });
  fs.mkdirSync(pkg, { recursive: true });
  for (const name of SOURCES) {
    const from = path.join(repoRoot, name);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(pkg, name), { recursive: true });
  }
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  log('building a snapshot of the package (scripts/build.js) into .cache/bench/pkg…');
  try {
    execFileSync(process.execPath, [path.join(pkg, 'scripts', 'build.js')], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`scripts/build.js failed on the snapshot:\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 4000));
  }
  return pkg;
}

/** A fresh Node-RED userDir with the snapshot installed (linked) as the package. */
export function userDirWithPackage(pkg: string): string {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nr-'));
  const name = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).name as string;
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  fs.symlinkSync(pkg, path.join(userDir, 'node_modules', name), 'dir');
  return userDir;
}
