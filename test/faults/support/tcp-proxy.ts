// A TCP proxy on loopback between Node-RED and a Kafka broker, for the "slow network" fault:
// 'pass' forwards bytes as they come, 'delay' holds every chunk for delayMs (order kept, so the
// connection behaves like a long, thin link), 'stall' stops reading on both sides (TCP backpressure
// reaches the client; nothing is buffered here without bound). The broker must advertise the
// proxy's port (advertised.listeners) so that clients keep talking through it after bootstrap.
import * as net from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number } | { kind: 'stall' };

interface Pipe { from: net.Socket; to: net.Socket; queue: { at: number; chunk: Buffer }[]; timer: NodeJS.Timeout | null }

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly pipes = new Set<Pipe>();
  private readonly sockets = new Set<net.Socket>();
  private mode: ProxyMode = { kind: 'pass' };
  /** Bytes forwarded, both directions (a test sees that traffic really went through). */
  bytes = 0;
  connections = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  get port(): number { return (this.server?.address() as net.AddressInfo | null)?.port ?? 0; }

  async listen(port: number): Promise<this> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    return this;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    for (const p of this.pipes) {
      if (mode.kind === 'stall') p.from.pause();
      else { p.from.resume(); this.flush(p); }
    }
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => { this.sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    const p: Pipe = { from, to, queue: [], timer: null };
    this.pipes.add(p);
    from.on('close', () => { if (p.timer) clearTimeout(p.timer); this.pipes.delete(p); });
    if (this.mode.kind === 'stall') from.pause();
    from.on('data', (chunk: Buffer) => {
      p.queue.push({ at: Date.now(), chunk });
      this.flush(p);
    });
  }

  /** Writes every chunk whose delay is over; stops reading while the other side is full. */
  private flush(p: Pipe): void {
    if (p.timer) { clearTimeout(p.timer); p.timer = null; }
    if (this.mode.kind === 'stall') { p.from.pause(); return; }
    const delay = this.mode.kind === 'delay' ? this.mode.delayMs : 0;
    const now = Date.now();
    while (p.queue.length && p.queue[0].at + delay <= now) {
      const { chunk } = p.queue.shift()!;
      this.bytes += chunk.length;
      if (!p.to.destroyed && !p.to.write(chunk)) {
        p.from.pause();
        p.to.once('drain', () => { if (this.mode.kind !== 'stall') p.from.resume(); });
      }
    }
    if (p.queue.length) p.timer = setTimeout(() => this.flush(p), p.queue[0].at + delay - now);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const p of this.pipes) if (p.timer) clearTimeout(p.timer);
    this.pipes.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
