// The load generator's process: autocannon's API with a setupRequest that gives every request unique
// event ids. (autocannon's own -I replacement computes Content-Length for a 33-character id while the
// hyperid it inserts is shorter, so the server waits for bytes that never come.)
// At a fixed rate it paces requests itself (paced() below): autocannon's overallRate is a budget per
// second that each connection spends back to back at the start of the second, so "10,000 events/s"
// would arrive as one burst per second and the latency would measure the burst, not the pipeline.
//   node -r ts-node/register/transpile-only bench/load-child.ts '<LoadOptions as JSON>'   → "RESULT {…}"
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { LoadOptions, LoadResult } from './load';

const autocannon = require('autocannon');

/**
 * Open loop at o.rate requests/s, evenly spaced, over at most o.connections keep-alive sockets.
 * Latency counts from when a request was due, so a request that waited for a free socket (the
 * server fell behind) is charged that wait (no coordinated omission).
 */
function paced(o: LoadOptions & { rate: number }, body: () => string): void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const url = new URL(o.url);
  const latencies: number[] = [];
  const worstBySecond = new Map<number, { max: number; requests: number }>();
  const codes: Record<string, number> = {};
  let ok = 0; let non2xx = 0; let errors = 0; let timeouts = 0; let open = 0;
  const started = performance.now();
  const interval = 1000 / o.rate;
  const total = Math.round(o.rate * o.seconds);
  let sent = 0;
  let stopped = false;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (q: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0);
    const slowSeconds = [...worstBySecond].filter(([, w]) => w.max > 500).sort((a, b) => b[1].max - a[1].max).slice(0, 5)
      .map(([at, w]) => ({ at, max: Math.round(w.max), requests: w.requests }));
    const result: LoadResult = { rps: latencies.length / seconds, ok, non2xx, errors, timeouts, p50: pct(0.5), p99: pct(0.99), max: pct(1), seconds, statusCodes: codes, slowSeconds };
    console.log(`RESULT ${JSON.stringify(result)}`);
    agent.destroy();
  };
  const fire = (due: number): void => {
    open++;
    const payload = body();
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, timeout: (o.timeoutSeconds ?? 30) * 1000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${o.token}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        const latency = performance.now() - due;
        latencies.push(latency);
        const second = Math.floor((due - started) / 1000);
        const w = worstBySecond.get(second) ?? { max: 0, requests: 0 };
        w.max = Math.max(w.max, latency);
        w.requests++;
        worstBySecond.set(second, w);
        codes[res.statusCode ?? 0] = (codes[res.statusCode ?? 0] ?? 0) + 1;
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) ok++; else non2xx++;
        if (--open === 0 && (stopped || sent >= total)) finish();
      });
    });
    req.on('timeout', () => { timeouts++; req.destroy(new Error('timeout')); });
    req.on('error', () => { errors++; if (--open === 0 && (stopped || sent >= total)) finish(); });
    req.end(payload);
  };
  const tick = (): void => {
    const now = performance.now();
    while (!stopped && sent < total && started + sent * interval <= now) fire(started + sent++ * interval);
    if (!stopped && sent < total) setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
    else if (open === 0) finish();
  };
  process.once('SIGTERM', () => { stopped = true; });
  tick();
}

function main(o: LoadOptions): void {
  const parts = fs.readFileSync(o.bodyFile, 'utf8').split('[<id>]');
  const prefix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  let seq = 0;
  if (o.rate) { paced({ ...o, rate: o.rate }, () => parts.join(`${prefix}-${(seq++).toString(36)}`)); return; }
  const instance = autocannon({
    url: o.url,
    method: 'POST',
    connections: o.connections,
    duration: o.seconds,
    timeout: o.timeoutSeconds ?? 30,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: parts.join(`${prefix}-${(seq++).toString(36)}`) }) }],
  }, (err: Error | null, r: any) => {
    if (err) { console.error(err); process.exit(1); }
    const codes: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) codes[k] = (v as { count: number }).count;
    const result: LoadResult = {
      rps: r.requests.average, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
      p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, seconds: r.duration, statusCodes: codes,
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  });
  process.once('SIGTERM', () => instance.stop());
}

main(JSON.parse(process.argv[2]) as LoadOptions);
