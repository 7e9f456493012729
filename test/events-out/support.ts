// Shared setup for the events-out tests: a simulator, the package's token manager and API client
// pointed at it, an ingest sender, and guide-003 sample events.
import { GenesysApiClient } from '../../lib/genesys/api-client';
import { TokenManager } from '../../lib/genesys/token-manager';
import { IngestSender, type IngestSenderOptions } from '../../lib/genesys/ingest/sender';
import { IngestPipeline, prepareEvents, type SubmitResult } from '../../lib/genesys/ingest/pipeline';
import type { IngestDedup } from '../../lib/genesys/ingest/dedup';
import type { AuditRecord } from '../../lib/genesys/ingest/types';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import { ingestState, type IngestSimState } from '../../simulator/routes/ingest';
import type { IngestEvent } from '../../lib/genesys/ingest/schema';

export interface IngestRig {
  sim: GenesysSimulator;
  st: IngestSimState;
  tokens: TokenManager;
  api: GenesysApiClient;
  sender: IngestSender;
  pipeline: IngestPipeline;
  audit: AuditRecord[];
  /** Prepares and submits events (as the node does for one message). */
  submit(events: unknown): Promise<SubmitResult>;
  close(): Promise<void>;
}

export async function startRig(opts: Partial<IngestSenderOptions> = {}, dedup: IngestDedup | null = null): Promise<IngestRig> {
  const sim = new GenesysSimulator();
  await sim.start();
  const tokens = new TokenManager({ tokenUrl: `${sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
  const api = new GenesysApiClient({ apiBase: sim.baseUrl, tokens });
  const sender = new IngestSender({ api, lingerMs: 5, retry: { initialMs: 20, maxMs: 100, minMs: 10 }, ...opts });
  const audit: AuditRecord[] = [];
  sender.on('audit', (r: AuditRecord) => audit.push(r));
  const pipeline = new IngestPipeline(sender, dedup);
  return {
    sim, st: ingestState(sim), tokens, api, sender, pipeline, audit,
    submit: (events) => pipeline.submit(prepareEvents(events)),
    async close() {
      await sender.close(1000);
      await dedup?.close();
      api.close();
      tokens.close();
      await sim.stop();
    },
  };
}

let seq = 0;
/** A valid guide-003 event; `pad` adds that many characters of attributes (to control its size). */
export function sampleEvent(patch: Partial<IngestEvent> = {}, pad = 0): IngestEvent {
  seq++;
  return {
    eventType: 'routing.interaction.answer',
    eventTime: new Date(1_714_557_600_000 + seq * 1000).toISOString(),
    interactionId: `int-${process.pid}-${seq}`,
    routingMetadata: { queueId: 'queue-alpha', skill: 'support', actionType: 'ANSWER' },
    attributes: pad > 0 ? { customer_segment: 'enterprise', note: 'x'.repeat(pad) } : { customer_segment: 'enterprise', priority: 'high' },
    schemaVersion: 2,
    ...patch,
  };
}

export function events(n: number, pad = 0): IngestEvent[] {
  return Array.from({ length: n }, () => sampleEvent({}, pad));
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** interactionIds the simulator accepted, in order. */
export function receivedIds(st: IngestSimState): string[] {
  return st.batches.flatMap((b) => (b.events ?? []).map((e) => e.interactionId));
}
