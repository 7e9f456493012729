// Headless Node-RED for the benchmarks: harness/node-red.ts with this package linked (dist/), quiet
// logging, optional --cpu-prof, and the process's RSS read from /proc.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeRedProcess, type NodeRedOptions } from '../harness/node-red';

export const PROFILE_DIR = path.resolve(__dirname, 'results', 'profiles');
/** bench-feed and bench-probe (bench/nodered-nodes/bench-nodes.js): the load and the clock inside Node-RED. */
export const BENCH_NODES_DIR = path.resolve(__dirname, 'nodered-nodes');

export interface BenchNodeRedOptions extends NodeRedOptions {
  /** A userDir made for this process (snapshot.ts userDirWithPackage); removed by stopNodeRed. */
  userDir: string;
  /** Writes a V8 CPU profile of the Node-RED process into bench/results/profiles/<name>-*.cpuprofile. */
  profileName?: string;
}

/**
 * Node options of every measured Node-RED (ours and the stock build alike): what docker/Dockerfile
 * ships, a larger young generation (fewer scavenges at 10,000 events/s). BENCH_NODE_OPTIONS overrides.
 */
export const BENCH_NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? '--max-semi-space-size=32';

export async function startNodeRed(o: BenchNodeRedOptions): Promise<NodeRedProcess> {
  let nodeBinary = o.nodeBinary;
  if (o.profileName) {
    // --cpu-prof is refused in NODE_OPTIONS: a wrapper execs node with it (same PID).
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    nodeBinary = path.join(o.userDir, 'node-cpu-prof.sh');
    const file = path.join(PROFILE_DIR, `${o.profileName}-${Date.now()}.cpuprofile`);
    fs.writeFileSync(nodeBinary, `#!/bin/sh\nexec ${JSON.stringify(o.nodeBinary || process.execPath)} --cpu-prof --cpu-prof-dir=${JSON.stringify(PROFILE_DIR)} --cpu-prof-name=${JSON.stringify(path.basename(file))} "$@"\n`, { mode: 0o755 });
  }
  const red = new NodeRedProcess({
    ...o,
    env: { ...(BENCH_NODE_OPTIONS ? { NODE_OPTIONS: BENCH_NODE_OPTIONS } : {}), ...o.env },
    flows: o.flows ? placed(o.flows as Record<string, unknown>[]) : undefined,
    nodeBinary,
    settings: {
      // 'info': the harness waits for the "Started flows" line.
      logging: { console: { level: 'info', metrics: false, audit: false } },
      nodesDir: [BENCH_NODES_DIR],
      editorTheme: { tours: false, projects: { enabled: false } },
      ...o.settings,
    },
  });
  try {
    await red.start();
  } catch (err) {
    await stopNodeRed(red);
    throw err;
  }
  return red;
}

/** Stops Node-RED by the PID the harness holds and removes its userDir. */
export async function stopNodeRed(red: NodeRedProcess): Promise<void> {
  await red.stop();
  if (red.userDir) fs.rmSync(red.userDir, { recursive: true, force: true });
}

/** Gives every node on a tab a position: Node-RED treats a node with z but no x/y as a config node. */
export function placed(flows: Record<string, unknown>[]): Record<string, unknown>[] {
  return flows.map((n, i) => (n.z && n.x === undefined ? { x: 100 + 150 * (i % 6), y: 80 + 60 * Math.floor(i / 6), ...n } : n));
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * CPU seconds (user + system) a process has used so far (Linux /proc); with mainThread, only its
 * main thread's (the one running every Node-RED node: the limit when it nears 100 % of a core).
 */
export function cpuSecondsOf(pid: number | undefined, mainThread = false): number {
  if (!pid) return 0;
  const file = mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const fields = fs.readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** Error lines Node-RED logged (a done(err) nobody caught shows up here). */
export function errorLines(red: NodeRedProcess): string[] {
  return red.logLines.filter((l) => /\[error\]/.test(l));
}

export async function postJson<T>(url: string, body: unknown, timeoutMs = 600_000): Promise<T> {
  const r = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
