// A Redis for tests and the demo: REDIS_URL when set, else our own redis-server on a free loopback port.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { freePort } from './kafka';

export class RedisServer {
  url = '';
  port = 0;
  private child: ChildProcess | null = null;
  private exitHook = (): void => { if (this.child?.pid) try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* */ } };

  get pid(): number | undefined { return this.child?.pid; }

  static available(): boolean {
    return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  }

  /** Starts redis-server on the given (or a free) port; resolves when it accepts connections. */
  async start(port?: number): Promise<this> {
    this.port = port || this.port || await freePort();
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' });
    this.child = child;
    this.url = `redis://127.0.0.1:${this.port}`;
    process.on('exit', this.exitHook);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await new Promise<boolean>((resolve) => {
        const s = net.connect(this.port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      })) return this;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start within 10 s');
  }

  /** Stops it by the PID we recorded (SIGKILL also serves as a crash in fault tests). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.child = null; return; }
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await done;
    process.removeListener('exit', this.exitHook);
    this.child = null;
  }
}
