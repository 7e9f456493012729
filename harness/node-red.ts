// Headless Node-RED in a child process with a private userDir and this package linked in, for
// end-to-end tests, the browser test, benchmarks and fault tests. Stopped by the PID recorded here
// (Node-RED renames its process, so never by name).
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './kafka';

const repoRoot = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'package.json')) ? '' : '..');

export interface NodeRedOptions {
  /** Flow JSON (array) to deploy at start. */
  flows?: unknown[];
  /** Credentials per node id (written in clear to flows_cred.json; credentialSecret false). */
  credentials?: Record<string, Record<string, string>>;
  env?: Record<string, string>;
  port?: number;
  /** Use an existing userDir (e.g. one with a packed tarball installed) instead of linking the repo. */
  userDir?: string;
  /** Extra settings merged into settings.js. */
  settings?: Record<string, unknown>;
  /** Node.js binary (e.g. Node 22 for Node-RED 5). */
  nodeBinary?: string;
  redScript?: string;
}

export class NodeRedProcess {
  port = 0;
  userDir = '';
  readonly logLines: string[] = [];
  private child: ChildProcess | null = null;
  private readonly opts: NodeRedOptions;
  private exitHook = (): void => { if (this.child?.pid) try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* */ } };

  constructor(opts: NodeRedOptions = {}) { this.opts = opts; }

  get url(): string { return `http://127.0.0.1:${this.port}`; }
  get pid(): number | undefined { return this.child?.pid; }
  get log(): string { return this.logLines.join('\n'); }

  async start(): Promise<this> {
    this.port = this.opts.port || this.port || await freePort();
    if (!this.userDir) {
      this.userDir = this.opts.userDir || fs.mkdtempSync(path.join(os.tmpdir(), 'nr-userdir-'));
      if (!this.opts.userDir) {
        fs.mkdirSync(path.join(this.userDir, 'node_modules'), { recursive: true });
        const pkgName = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).name;
        fs.symlinkSync(repoRoot, path.join(this.userDir, 'node_modules', pkgName), 'dir');
      }
      if (this.opts.flows) fs.writeFileSync(path.join(this.userDir, 'flows.json'), JSON.stringify(this.opts.flows));
      if (this.opts.credentials) fs.writeFileSync(path.join(this.userDir, 'flows_cred.json'), JSON.stringify(this.opts.credentials));
      const settings = {
        uiPort: this.port, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false,
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false, projects: { enabled: false } },
        ...this.opts.settings,
      };
      fs.writeFileSync(path.join(this.userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    }
    const red = this.opts.redScript || require.resolve('node-red/red.js');
    const child = spawn(this.opts.nodeBinary || process.execPath, [red, '--userDir', this.userDir, '--settings', path.join(this.userDir, 'settings.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.opts.env },
    });
    this.child = child;
    process.on('exit', this.exitHook);
    const onData = (d: Buffer): void => { for (const l of d.toString().split('\n')) if (l.trim()) this.logLines.push(l); };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with ${child.exitCode}:\n${this.log.slice(-3000)}`);
      if (/Started flows/.test(this.log) && /Server now running/.test(this.log)) return this;
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.stop();
    throw new Error(`Node-RED did not start within 60 s:\n${this.log.slice(-3000)}`);
  }

  /** Waits until the log has a line matching re (e.g. /Started flows/). */
  async waitForLog(re: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (re.test(this.log)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no log line matching ${re} within ${timeoutMs} ms`);
  }

  /** Deploys flows through the admin API (full deploy). */
  async deploy(flows: unknown[]): Promise<void> {
    const r = await fetch(`${this.url}/flows`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows),
    });
    if (!r.ok) throw new Error(`deploy failed: ${r.status} ${await r.text()}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.child = null; return; }
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* */ } }, timeoutMs);
    await done;
    clearTimeout(t);
    process.removeListener('exit', this.exitHook);
    this.child = null;
  }

  /** Stops and removes a userDir this object created. */
  async destroy(): Promise<void> {
    await this.stop();
    if (!this.opts.userDir && this.userDir) fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}
