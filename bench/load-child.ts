// The load generator's process: autocannon's API with a setupRequest that gives every request unique
// event ids. (autocannon's own -I replacement computes Content-Length for a 33-character id while the
// hyperid it inserts is shorter, so the server waits for bytes that never come.)
//   node -r ts-node/register/transpile-only bench/load-child.ts '<LoadOptions as JSON>'   → "RESULT {…}"
import * as fs from 'node:fs';
import type { LoadOptions, LoadResult } from './load';

const autocannon = require('autocannon');

function main(o: LoadOptions): void {
  const parts = fs.readFileSync(o.bodyFile, 'utf8').split('[<id>]');
  const prefix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  let seq = 0;
  const instance = autocannon({
    url: o.url,
    method: 'POST',
    connections: o.connections,
    duration: o.seconds,
    timeout: o.timeoutSeconds ?? 30,
    ...(o.rate ? { overallRate: o.rate } : {}),
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
