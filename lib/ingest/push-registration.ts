// The push subscription of guide 000 (POST /api/v2/notifications), kept in step with a webhook node:
// created on first deploy, updated on redeploy or secret rotation, deleted when the node is removed.
// The registration is found again by its name, so a restart does not create a second one.
// Real Genesys Cloud has no such endpoint (see the node's help: EventBridge or Process Automation);
// this serves the guide's API and the simulator.
import type { GenesysApi } from '../genesys/types';
import { compileFilter, FilterError, validateFilter } from './filter';
import { decodeSecret, type SecretEncoding } from './secrets';

export interface PushRegistrationSpec {
  name: string;
  filter: string;
  targetUrl: string;
  audience: string;
  signingSecret: string;
  secretEncoding: 'text' | 'base64';
  retry: { maxRetries: number; initialDelayMs: number; maxDelayMs: number; backoffMultiplier: number };
  batchSize?: number;
}

const PATH = '/api/v2/notifications';

export function registrationBody(spec: PushRegistrationSpec): Record<string, unknown> {
  return {
    name: spec.name,
    resource: 'realtime:interaction',
    filter: spec.filter,
    target: { url: spec.targetUrl, method: 'POST' },
    retry: spec.retry,
    security: { type: 'jwt', signingAlgorithm: 'HS256', signingSecret: spec.signingSecret, secretEncoding: spec.secretEncoding },
    audience: spec.audience,
    ...(spec.batchSize && spec.batchSize > 1 ? { batchSize: spec.batchSize } : {}),
  };
}

/** The registration with this name, if any. */
export async function findRegistration(api: GenesysApi, name: string): Promise<{ id: string } | undefined> {
  const res = await api.request<{ entities?: { id: string; name: string }[] }>({ method: 'GET', path: PATH });
  return res.body?.entities?.find((e) => e.name === name);
}

/** Creates or updates the registration named spec.name; returns its id. Rejects an invalid filter before any call. */
export async function upsertRegistration(api: GenesysApi, spec: PushRegistrationSpec): Promise<{ id: string; created: boolean }> {
  const v = validateFilter(spec.filter);
  if (!v.ok) throw new Error(`invalid filter: ${v.error}`);
  const body = registrationBody(spec);
  const existing = await findRegistration(api, spec.name);
  if (existing) {
    await api.request({ method: 'PUT', path: `${PATH}/${encodeURIComponent(existing.id)}`, body });
    return { id: existing.id, created: false };
  }
  const res = await api.request<{ id: string }>({ method: 'POST', path: PATH, body });
  return { id: res.body.id, created: true };
}

/** Deletes the registration (by id, else by name); a missing one is not an error. */
export async function deleteRegistration(api: GenesysApi, ref: { id?: string; name: string }): Promise<boolean> {
  const id = ref.id ?? (await findRegistration(api, ref.name))?.id;
  if (!id) return false;
  const res = await api.request({ method: 'DELETE', path: `${PATH}/${encodeURIComponent(id)}`, acceptStatus: [404] });
  return res.status !== 404;
}

/** A registration as the guide's API stores it (the simulator's extras: audience, batchSize, concurrency, ...). */
export interface PushRegistration {
  id: string;
  name: string;
  resource: 'realtime:interaction';
  filter: string;
  target: { url: string; method: 'POST' | 'PUT' };
  retry: { maxRetries: number; initialDelayMs: number; maxDelayMs: number; backoffMultiplier: number };
  security: { type: 'jwt'; signingAlgorithm: 'HS256'; signingSecret: string; secretEncoding?: SecretEncoding };
  /** JWT aud (guide 000's "your-ingestion-service"). */
  audience: string;
  /** Events per POST; above 1 the body is an array. */
  batchSize: number;
  /** Parallel POSTs per registration. */
  concurrency: number;
  /** Lifetime of the bearer token; a token is reused for half of it (senders reuse tokens). */
  tokenTtlSeconds: number;
  /** Per-attempt answer timeout. */
  timeoutMs: number;
  /** How long a partial batch waits for more events before it is sent (0: the current burst only). */
  lingerMs: number;
  dateCreated: string;
}

type Validated = { ok: true; reg: Omit<PushRegistration, 'id' | 'dateCreated'> } | { ok: false; message: string };

function num(v: unknown, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return v;
}

/** Checks a registration body the way the guide's endpoint does (400 with this message when not ok). */
export function validateRegistration(b: any): Validated {
  try {
    if (!b || typeof b !== 'object') throw new Error('body must be a JSON object');
    if (typeof b.name !== 'string' || !b.name.trim()) throw new Error('name is required');
    if (b.resource !== 'realtime:interaction') throw new Error("resource must be 'realtime:interaction'");
    const filter = b.filter ?? '';
    if (typeof filter !== 'string') throw new Error('filter must be a string');
    compileFilter(filter);
    const url = b.target?.url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('target.url must be an http(s) URL');
    new URL(url);
    const method = b.target?.method ?? 'POST';
    if (method !== 'POST' && method !== 'PUT') throw new Error('target.method must be POST or PUT');
    const r = b.retry ?? {};
    const initialDelayMs = num(r.initialDelayMs, 1000, 0, 3600000, 'retry.initialDelayMs');
    const retry = {
      maxRetries: num(r.maxRetries, 5, 0, 50, 'retry.maxRetries'),
      initialDelayMs,
      maxDelayMs: num(r.maxDelayMs, 60000, initialDelayMs, 86400000, 'retry.maxDelayMs'),
      backoffMultiplier: num(r.backoffMultiplier, 2, 1, 10, 'retry.backoffMultiplier'),
    };
    const s = b.security;
    if (!s || s.type !== 'jwt') throw new Error("security.type must be 'jwt'");
    if (s.signingAlgorithm !== 'HS256') throw new Error("security.signingAlgorithm must be 'HS256'");
    if (typeof s.signingSecret !== 'string' || !s.signingSecret.trim()) throw new Error('security.signingSecret is required');
    const secretEncoding: SecretEncoding = s.secretEncoding === 'base64' ? 'base64' : 'text';
    decodeSecret(s.signingSecret, secretEncoding);
    return {
      ok: true,
      reg: {
        name: b.name, resource: 'realtime:interaction', filter, target: { url, method }, retry,
        security: { type: 'jwt', signingAlgorithm: 'HS256', signingSecret: s.signingSecret, secretEncoding },
        audience: typeof b.audience === 'string' && b.audience ? b.audience : 'your-ingestion-service',
        batchSize: num(b.batchSize, 1, 1, 1000, 'batchSize'),
        concurrency: num(b.concurrency, 8, 1, 256, 'concurrency'),
        tokenTtlSeconds: num(b.tokenTtlSeconds, 300, 10, 86400, 'tokenTtlSeconds'),
        timeoutMs: num(b.timeoutMs, 30000, 100, 600000, 'timeoutMs'),
        lingerMs: num(b.lingerMs, 0, 0, 10000, 'lingerMs'),
      },
    };
  } catch (err) {
    const prefix = err instanceof FilterError ? 'invalid filter: ' : '';
    return { ok: false, message: prefix + (err as Error).message };
  }
}
