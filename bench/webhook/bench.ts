// Webhook ingestion benchmark: one run, one load generator (autocannon in its own process), every target
// with JWT-signed single events (~1 KB) and batches of 100, then the ratios as a markdown table.
//   node -r ts-node/register/transpile-only bench/webhook/bench.ts [--duration 5] [--connections 32]
// With KAFKA_BROKERS set it also measures "after delivery" into Kafka at 32 and 256 connections.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JwtVerifier } from '../../lib/ingest/jwt';
import { StaticSecrets } from '../../lib/ingest/secrets';

const root = path.resolve(__dirname, '../..');
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const DURATION = arg('duration', 5);
const CONNECTIONS = arg('connections', 32);

interface Ports { nodeRedPort: number; dedicatedPort: number; expressPort: number; plainPort: number; kafka: boolean }
interface Result { rps: number; p50: number; p99: number; non2xx: number; errors: number; ok: number }

function event(i: number): Record<string, unknown> {
  const conv = `5f1c2a3b-1111-4222-8333-${String(i).padStart(12, '0')}`;
  return {
    data: {
      conversationId: conv, type: 'voice', state: 'connected', direction: 'inbound', timestamp: new Date().toISOString(),
      queue: { id: '0b7e3c2a-8f3d-4a51-9d0e-2c4b6a8e1f00', name: 'Customer Care - Tier 1' },
      agent: { id: '7a1d9c3e-2b4f-4e8a-b6c1-0f9e8d7c6b5a', name: 'Avery Johnson' },
      customer: { channelId: 'tel:+15555550123' }, waitTimeMs: 18250, talkTimeMs: 312400,
      attributes: { campaign: 'spring-renewals', language: 'en-US', priority: '5', segment: 'gold', crmCaseId: 'CASE-00012345', notes: 'x'.repeat(300) },
    },
    metadata: { eventId: `${conv}:${i}`, sequence: i, subscriptionId: 'bench-subscription', deliveryAttempt: 1, publishedAt: new Date().toISOString() },
  };
}

function sign(): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ iss: 'genesys-cloud', aud: 'your-ingestion-service', sub: 'bench', jti: 'bench-1', iat: now, exp: now + 900 })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

function autocannon(url: string, bodyFile: string, token: string, seconds: number, connections = CONNECTIONS): Promise<Result> {
  const cli = path.join(root, 'node_modules', 'autocannon', 'autocannon.js');
  const args = [cli, '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-i', bodyFile, '-j', '-n',
    '-H', 'content-type=application/json', '-H', `authorization=Bearer ${token}`, url];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.on('error', reject);
    p.on('exit', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop() || '{}');
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, ok: r['2xx'] });
      } catch (err) { reject(new Error(`autocannon output not understood: ${out.slice(0, 300)} (${(err as Error).message})`)); }
    });
  });
}

async function startServers(): Promise<{ ports: Ports; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'servers.ts')], {
    cwd: root, env: { ...process.env, BENCH_SECRET: SECRET }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ports = await new Promise<Ports>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c) => {
      buf += c;
      const m = /READY (\{.*\})/.exec(buf);
      if (m) resolve(JSON.parse(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`bench servers exited (${code}): ${buf}`)));
  });
  return {
    ports,
    stop: () => new Promise((resolve) => { child.once('exit', () => resolve()); child.stdin!.end(); setTimeout(() => child.kill('SIGKILL'), 5000).unref(); }),
  };
}

/** HS256 verification alone on this core: jose, jsonwebtoken, ours without and with the token cache. */
async function verifyMicrobench(token: string): Promise<[string, number][]> {
  const jose = await import('jose');
  const jsonwebtoken = require('jsonwebtoken');
  const key = new TextEncoder().encode(SECRET);
  const opts = { issuer: 'genesys-cloud', audience: 'your-ingestion-service' };
  const ours = (cacheSize: number) => new JwtVerifier({ secrets: new StaticSecrets([SECRET]), ...opts, cacheSize });
  const noCache = ours(0);
  const cached = ours(1000);
  const rate = async (fn: () => unknown | Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await fn();
    const t0 = process.hrtime.bigint();
    let n = 0;
    while (process.hrtime.bigint() - t0 < 700_000_000n) { for (let i = 0; i < 100; i++) await fn(); n += 100; }
    return Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  };
  return [
    ['jose@6 jwtVerify', await rate(() => jose.jwtVerify(token, key, { ...opts, algorithms: ['HS256'] }))],
    ['jsonwebtoken@9 verify', await rate(() => jsonwebtoken.verify(token, SECRET, { ...opts, algorithms: ['HS256'] }))],
    ['ours, node:crypto HMAC (no cache)', await rate(() => { if (!noCache.verify(token).ok) throw new Error('refused'); })],
    ['ours, token cache hit', await rate(() => { if (!cached.verify(token).ok) throw new Error('refused'); })],
  ];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

async function main(): Promise<void> {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-bench-bodies-'));
  const single = path.join(tmp, 'single.json');
  const batch = path.join(tmp, 'batch.json');
  fs.writeFileSync(single, JSON.stringify(event(1)));
  fs.writeFileSync(batch, JSON.stringify(Array.from({ length: 100 }, (_, i) => event(i))));
  const token = sign();
  const micro = await verifyMicrobench(token);
  const { ports, stop } = await startServers();
  const targets: { name: string; url: string; batch: boolean }[] = [
    { name: 'genesys-webhook-in on RED.httpNode (on receipt)', url: `http://127.0.0.1:${ports.nodeRedPort}/node`, batch: true },
    { name: 'genesys-webhook-in on RED.httpNode, token cache off', url: `http://127.0.0.1:${ports.nodeRedPort}/nocache`, batch: false },
    { name: 'genesys-webhook-in, dedicated listener', url: `http://127.0.0.1:${ports.dedicatedPort}/dedicated`, batch: true },
    { name: 'bare Express 4 route (read + JSON.parse, no JWT)', url: `http://127.0.0.1:${ports.expressPort}/express`, batch: true },
    { name: 'plain node:http (read body, no JWT)', url: `http://127.0.0.1:${ports.plainPort}/plain`, batch: true },
    { name: 'stock flow: http in → function (jsonwebtoken) → http response', url: `http://127.0.0.1:${ports.nodeRedPort}/stock`, batch: true },
  ];
  const results = new Map<string, { single?: Result; batch?: Result }>();
  const problems: string[] = [];
  const kafkaRows: string[] = [];
  try {
    for (const t of targets) {
      const r: { single?: Result; batch?: Result } = {};
      for (const kind of t.batch ? ['single', 'batch'] as const : ['single'] as const) {
        const file = kind === 'single' ? single : batch;
        await autocannon(t.url, file, token, 1); // warm-up
        r[kind] = await autocannon(t.url, file, token, DURATION);
        if (r[kind]!.non2xx || r[kind]!.errors) problems.push(`${t.name} ${kind}: ${r[kind]!.non2xx} non-2xx, ${r[kind]!.errors} errors`);
        process.stderr.write(`  ${t.name} [${kind}]: ${fmt(r[kind]!.rps)} req/s\n`);
      }
      results.set(t.name, r);
    }
    if (ports.kafka) {
      for (const [c, kind] of [[32, 'single'], [256, 'single'], [32, 'batch']] as const) {
        const file = kind === 'single' ? single : batch;
        const perRequest = kind === 'single' ? 1 : 100;
        await autocannon(`http://127.0.0.1:${ports.nodeRedPort}/kafka`, file, token, 1, c);
        const r = await autocannon(`http://127.0.0.1:${ports.nodeRedPort}/kafka`, file, token, DURATION, c);
        const eps = (r.ok * perRequest) / DURATION;
        kafkaRows.push(`| ${kind === 'single' ? 'single events' : 'batches of 100'} | ${c} | ${fmt(eps)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`);
        process.stderr.write(`  after delivery into Kafka, ${kind}, ${c} connections: ${fmt(eps)} events/s\n`);
      }
    }
  } finally {
    await stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const get = (name: string) => results.get(name)!;
  const express = get(targets[3].name);
  const stock = get(targets[5].name);
  const lines = [
    `### Webhook ingestion (${os.cpus().length} cores, Node ${process.version}, autocannon -c ${CONNECTIONS} -d ${DURATION}, JWT HS256 bearer)`,
    '',
    '| target | single: req/s | p99 ms | × Express | × stock | batch of 100: req/s | events/s | × Express | × stock |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of targets) {
    const r = get(t.name);
    const s = r.single!;
    const b = r.batch;
    lines.push(`| ${t.name} | ${fmt(s.rps)} | ${s.p99} | ${ratio(s.rps, express.single!.rps)} | ${ratio(s.rps, stock.single!.rps)} | `
      + (b ? `${fmt(b.rps)} | ${fmt(b.rps * 100)} | ${ratio(b.rps, express.batch!.rps)} | ${ratio(b.rps, stock.batch!.rps)} |` : '– | – | – | – |'));
  }
  lines.push('', '| HS256 verification alone (one core) | verifications/s |', '|---|---:|', ...micro.map(([n, v]) => `| ${n} | ${fmt(v)} |`));
  if (ports.kafka) {
    lines.push('', '| after delivery into Kafka | connections | events/s acknowledged | p50 ms | p99 ms | non-2xx |', '|---|---:|---:|---:|---:|---:|', ...kafkaRows);
  }
  const node = get(targets[0].name).single!.rps;
  const dedicated = get(targets[2].name).single!.rps;
  const plain = get(targets[4].name).single!.rps;
  lines.push('', `Targets: node ≥ 0.7 × Express (single): ${ratio(node, express.single!.rps)} ${node >= 0.7 * express.single!.rps ? 'met' : 'NOT met'}; `
    + `node ≥ 8 × stock (single): ${ratio(node, stock.single!.rps)} ${node >= 8 * stock.single!.rps ? 'met' : 'NOT met'}; `
    + `dedicated ≥ 0.5 × plain node:http: ${ratio(dedicated, plain)} ${dedicated >= 0.5 * plain ? 'met' : 'NOT met'}.`);
  if (problems.length) lines.push('', 'Problems: ' + problems.join('; '));
  lines.push('', `(whole run ${Math.round((Date.now() - started) / 1000)} s)`);
  console.log(lines.join('\n'));
}

main().catch((err) => { console.error(err); process.exit(1); });
