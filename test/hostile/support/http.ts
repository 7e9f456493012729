// HTTP plumbing for the hostile-input suites: a sender that reports 'closed' instead of throwing
// when the server drops the connection, heap measurement after a full GC, and raw sockets.
import * as http from 'node:http';
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FuzzRequest } from '../generators/webhook';

export interface Outcome { status: number | 'closed'; body: string; headers: http.IncomingHttpHeaders }

/** Sends one generated request; resolves 'closed' when the connection ends without an answer. */
export function send(url: string, r: Pick<FuzzRequest, 'headers' | 'body'>, agent: http.Agent | false, timeoutMs = 20_000): Promise<Outcome> {
  const once = (): Promise<Outcome & { retry?: boolean }> => new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    if (Buffer.isBuffer(r.body)) headers['content-length'] = String(r.body.length);
    const req = http.request(url, { method: 'POST', headers, agent });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }); });
      res.on('error', () => { clearTimeout(timer); resolve({ status: 'closed', headers: {}, body: '' }); });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A kept-alive socket the server closed while idle: not the server refusing this request (Node's documented retry case).
      resolve({ status: 'closed', headers: {}, body: `${err.code ?? err.message}${req.reusedSocket ? ' (reused socket)' : ''}`, retry: req.reusedSocket && err.code === 'ECONNRESET' });
    });
    if (Buffer.isBuffer(r.body)) { req.end(r.body); return; }
    const chunks = r.body;
    let i = 0;
    const pump = (): void => {
      while (i < chunks.length) {
        if (req.destroyed) return;
        if (!req.write(chunks[i++])) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
  return once().then((o) => (o.retry ? once().then((again) => ({ ...again, body: `${again.body} (retried after ${o.body})` })) : o));
}

let gcFn: (() => void) | null = null;
/** Heap plus array buffers after a full GC, in MB. */
export function heapAfterGc(): number {
  if (!gcFn) {
    setFlagsFromString('--expose_gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1e6;
}

/** A raw TCP connection to host:port (for requests Node's client refuses to send, and slow senders). */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends on a raw socket until it closes it (or the timeout). */
export function readUntilClosed(s: net.Socket, timeoutMs: number): Promise<{ text: string; closed: boolean; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let text = '';
    const done = (closed: boolean) => { clearTimeout(timer); resolve({ text, closed, ms: Date.now() - t0 }); };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.once('close', () => done(true));
  });
}

/** Runs `count` jobs with at most `parallel` at a time. */
export async function pool(count: number, parallel: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await job(next++);
  }));
}

export interface SlowResult { status: number | null; closed: boolean; ms: number; bytesSent: number }

/**
 * A slow sender (slowloris): sends `head` (request line and headers, ended or not), then one byte
 * every `everyMs` until the server closes the connection or `giveUpMs` passes.
 */
export async function slowSender(port: number, head: string, everyMs: number, giveUpMs: number, byte = ' '): Promise<SlowResult> {
  const s = await rawSocket(port);
  let bytesSent = head.length;
  s.write(head);
  const trickle = setInterval(() => {
    if (s.destroyed || s.writableEnded) return;
    s.write(byte);
    bytesSent++;
  }, everyMs);
  const r = await readUntilClosed(s, giveUpMs);
  clearInterval(trickle);
  s.destroy();
  const m = /^HTTP\/1\.1 (\d{3})/.exec(r.text);
  return { status: m ? Number(m[1]) : null, closed: r.closed, ms: r.ms, bytesSent };
}

/** A POST head for a raw socket; `complete` false leaves the headers unfinished (a header slowloris). */
export function postHead(path: string, headers: Record<string, string>, complete = true): string {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return complete ? `${lines.join('\r\n')}\r\n\r\n` : `${lines.join('\r\n')}\r\nX-Slow: `;
}
