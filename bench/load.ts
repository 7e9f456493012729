// The HTTP load generator: autocannon in a process of its own (load-child.ts), JWT-signed (HS256)
// POSTs of guide-000 push events, one event per request or batches of 100. Every request's events get
// unique ids (the body's [<id>] placeholders are replaced per request), so dedup passes them all.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789abcdef';
export const ISSUER = 'genesys-cloud';
export const AUDIENCE = 'bench-ingestion';

/** An HS256 bearer token as the guide's push sender signs it. */
export function signToken(secret = WEBHOOK_SECRET, lifetimeSeconds = 3600): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'bench', jti: `bench-${now}`, iat: now, exp: now + lifetimeSeconds })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A ~1 KB guide-000 push notification; `[<id>]` is replaced per request by the load generator. */
export function pushEvent(i: number): Record<string, unknown> {
  const conversationId = `5f1c2a3b-[<id>]-${i % 10}`;
  return {
    data: {
      conversationId, type: 'voice', state: i % 2 ? 'connected' : 'queued', direction: 'inbound', timestamp: '2025-11-23T12:00:00.000Z',
      queue: { id: '0b7e3c2a-8f3d-4a51-9d0e-2c4b6a8e1f00', name: 'Customer Care - Tier 1' },
      agent: { id: '7a1d9c3e-2b4f-4e8a-b6c1-0f9e8d7c6b5a', name: 'Avery Johnson' },
      customer: { channelId: 'tel:+15555550123' }, waitTimeMs: 18250, talkTimeMs: 312400,
      attributes: { campaign: 'spring-renewals', language: 'en-US', priority: '5', segment: 'gold', crmCaseId: 'CASE-00012345', notes: 'x'.repeat(300) },
    },
    metadata: { eventId: `[<id>]-${i}`, sequence: i, subscriptionId: 'bench-subscription', deliveryAttempt: 1, publishedAt: '2025-11-23T12:00:00.100Z' },
  };
}

export interface BodyFiles { dir: string; single: string; batch: string; batchSize: number }

export function writeBodies(batchSize = 100): BodyFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bodies-'));
  const single = path.join(dir, 'single.json');
  const batch = path.join(dir, 'batch.json');
  fs.writeFileSync(single, JSON.stringify(pushEvent(0)));
  fs.writeFileSync(batch, JSON.stringify(Array.from({ length: batchSize }, (_, i) => pushEvent(i))));
  return { dir, single, batch, batchSize };
}

export interface LoadOptions {
  url: string;
  bodyFile: string;
  token: string;
  seconds: number;
  connections: number;
  /** Requests per second over all connections (open loop); omitted = as fast as answers come (closed loop). */
  rate?: number;
  /** Per-request timeout, s. */
  timeoutSeconds?: number;
}

export interface LoadResult {
  /** Requests answered per second (any status). */
  rps: number;
  /** 2xx answers, all other answers, socket errors and timeouts over the whole run. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  max: number;
  seconds: number;
  statusCodes: Record<string, number>;
  /**
   * Paced loads only: the seconds (from the start, by when requests were due) whose slowest answer
   * took over 500 ms, worst first (at most 5), to tell a stall from a slow run.
   */
  slowSeconds?: { at: number; max: number; requests: number }[];
}

/** Runs autocannon (load-child.ts) in a process of its own and returns its summary. */
export function runLoad(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'load-child.ts'), JSON.stringify(o)], {
      cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'],
    });
    // An interrupted bench must not leave a load generator running.
    const kill = (): void => { child.kill('SIGKILL'); };
    process.on('exit', kill);
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.on('error', reject);
    child.on('exit', (code) => {
      process.removeListener('exit', kill);
      const m = /^RESULT (.*)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1]) as LoadResult);
      else reject(new Error(`load generator exited ${code}: ${(out + err).slice(0, 800)}`));
    });
  });
}
