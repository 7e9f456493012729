// Events/s into the simulator's ingest endpoint through the genesys-events-out pipeline: parse and
// validate each message (one event per message, as a Kafka source sends them), dedup window in
// memory, 500 KB batches, 5 requests in flight. The simulator runs in this process and validates
// every event too, so the figure is a floor for the sender's own cost.
//   npx ts-node --transpile-only bench/events-out.ts            (EVENTS=50000 BENCH_RUNS=3 PROCESSING_MS=0)
import { GenesysApiClient } from '../lib/genesys/api-client';
import { TokenManager } from '../lib/genesys/token-manager';
import { createDedupStore } from '../lib/events/dedup';
import { IngestDedup, IngestPipeline, IngestSender, prepareEvents } from '../lib/genesys/ingest';
import { DEFAULT_CLIENT, GenesysSimulator } from '../simulator/server';
import { ingestState } from '../simulator/routes/ingest';
import { fmt, medianOf } from './common';

export interface EventsOutBenchOptions {
  events?: number;
  concurrency?: number;
  batchBytes?: number;
  /** Simulated server time per request (ms). */
  processingMs?: number;
  dedup?: boolean;
}

export interface EventsOutBenchResult {
  eventsPerSecond: number;
  /** Events per second of this process's CPU time (sender and simulator together): independent of other load on the machine. */
  eventsPerCpuSecond: number;
  requests: number;
  maxInFlight: number;
  meanBatchEvents: number;
}

/** ~330-byte guide-003 events, each its own message. */
function payload(i: number): unknown {
  return {
    eventType: i % 3 === 0 ? 'routing.interaction.answer' : 'routing.interaction.queue',
    eventTime: new Date(1_714_557_600_000 + i).toISOString(),
    interactionId: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
    routingMetadata: { queueId: 'a1b2c3d4-queue-0001', skill: 'billing', actionType: i % 3 === 0 ? 'ANSWER' : 'QUEUE' },
    attributes: { customer_segment: 'enterprise', priority: 'high', channel: 'voice', wait_seconds: i % 300 },
    schemaVersion: 2,
  };
}

export async function benchEventsOut(o: EventsOutBenchOptions = {}): Promise<EventsOutBenchResult> {
  const total = o.events ?? 50_000;
  const sim = new GenesysSimulator();
  await sim.start();
  const st = ingestState(sim);
  st.options.keepEvents = false;
  st.options.processingDelayMs = o.processingMs ?? 0;
  const tokens = new TokenManager({ tokenUrl: `${sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
  const api = new GenesysApiClient({ apiBase: sim.baseUrl, tokens });
  const sender = new IngestSender({ api, concurrency: o.concurrency ?? 5, batchBytes: o.batchBytes ?? 500_000, lingerMs: 50, maxQueued: total });
  const dedup = o.dedup === false ? null : new IngestDedup(createDedupStore({ store: 'memory', windowSeconds: 300, maxEntries: 200_000 }), { windowMs: 300_000 });
  const pipeline = new IngestPipeline(sender, dedup);
  const messages = Array.from({ length: total }, (_, i) => payload(i));
  try {
    await tokens.getToken();
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    const results = await Promise.all(messages.map((m) => pipeline.submit(prepareEvents(m))));
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const accepted = results.reduce((n, r) => n + r.accepted, 0);
    if (accepted !== total || st.acceptedEvents !== total) throw new Error(`only ${accepted} of ${total} accepted (simulator: ${st.acceptedEvents})`);
    return { eventsPerSecond: total / seconds, eventsPerCpuSecond: total / cpuSeconds, requests: st.requests, maxInFlight: st.maxInFlight, meanBatchEvents: total / st.batches.length };
  } finally {
    await sender.close(1000);
    await dedup?.close();
    api.close();
    tokens.close();
    await sim.stop();
  }
}

if (require.main === module) {
  (async () => {
    const events = Number(process.env.EVENTS || 50_000);
    const processingMs = Number(process.env.PROCESSING_MS || 0);
    let last: EventsOutBenchResult | undefined;
    const rate = await medianOf('events-out', async () => { last = await benchEventsOut({ events, processingMs }); return last.eventsPerSecond; });
    console.log(`events-out → simulator ingest: ${fmt(rate)} events/s (median; last run ${fmt(last!.eventsPerCpuSecond)} events per CPU second), ${events} events of ~330 B, ` +
      `5 requests in flight (max seen ${last!.maxInFlight}), ~${Math.round(last!.meanBatchEvents)} events per request, ` +
      `server time ${processingMs} ms per request`);
  })().catch((err) => { console.error(err); process.exitCode = 1; });
}
