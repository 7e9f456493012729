// genesys-events-out: sends interaction events into Genesys Cloud through guide 003's ingest
// endpoint (POST /api/v2/events/ingest). Validation, the dedup window, batching, retries and the
// audit trail live in lib/genesys/ingest; this file is the glue. A message is done() only once
// Genesys accepted every event in it; anything else is done(err), so a Catch (or dlq) node has it.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { createDedupStore, RedisDedupStore } from '../../lib/events/dedup';
import {
  AuditFile, IngestDedup, IngestPipeline, IngestSender, InvalidPayloadError, prepareEvents,
  type AuditRecord, type IngestError, type SubmitResult,
} from '../../lib/genesys/ingest';
import type { TokenStatus } from '../../lib/genesys/token-manager';
import { nodeMetrics, releaseNode } from '../../lib/metrics';
import type { GenesysConfigNode } from '../genesys-config/types';

interface EventsOutDef extends NodeDef {
  genesys: string;
  path: string;
  batchKb: number | string;
  lingerMs: number | string;
  maxRequestKb: number | string;
  concurrency: number | string;
  maxAttempts: number | string;
  rateLimitRetries: number | string;
  requestTimeout: number | string;   // seconds
  maxQueued: number | string;
  dedup: 'off' | 'memory' | 'redis';
  dedupWindow: number | string;      // seconds
  dedupMaxEntries: number | string;
  redisUrl: string;
  redisPrefix: string;
  audit: 'off' | 'file' | 'output' | 'both';
  auditFile: string;
  auditMaxMb: number | string;
  auditKeep: number | string;
  closeTimeout: number | string;     // seconds
  /** Tests: backoff between transient failures (ms). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

interface EventsOutCredentials { redisPassword?: string }

const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : parseFloat(String(v ?? ''));
  return Number.isFinite(n) && n >= 0 ? n : dflt;
};

/** Node-RED waits 15 s for close handlers: flush for at most 13 s so done() comes in time. */
const MAX_CLOSE_MS = 13_000;

export = function (RED: NodeAPI): void {
  function GenesysEventsOut(this: Node<EventsOutCredentials>, config: EventsOutDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const cfg = RED.nodes.getNode(config.genesys) as GenesysConfigNode | null;

    // Misconfigured: every message still gets done(err), nothing disappears.
    const refuse = (key: string, detail: Record<string, string> = {}): void => {
      const message = RED._(`genesys-events-out.errors.${key}`, detail);
      node.status({ fill: 'red', shape: 'ring', text: `genesys-events-out.status.${key}` });
      node.error(message);
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(new Error(message)));
    };
    if (!cfg) { refuse('noConfig'); return; }

    let dedup: IngestDedup | null = null;
    const windowSeconds = num(config.dedupWindow, 300) || 300;
    const redisPrefix = config.redisPrefix || 'genesys:ingest-dedup:';
    try {
      if (config.dedup === 'memory' || config.dedup === 'redis') {
        const store = createDedupStore({
          store: config.dedup, windowSeconds, maxEntries: num(config.dedupMaxEntries, 100_000) || 100_000,
          redisUrl: config.redisUrl, redisPassword: node.credentials?.redisPassword, keyPrefix: redisPrefix, failMode: 'open',
        });
        if (store instanceof RedisDedupStore) store.on('health', (h: string, err?: Error) => { if (h === 'down') node.warn(RED._('genesys-events-out.errors.redisDown', { error: err?.message ?? '' })); });
        dedup = new IngestDedup(store, { windowMs: windowSeconds * 1000, maxEntries: num(config.dedupMaxEntries, 100_000) || 100_000, keyPrefix: redisPrefix });
      }
    } catch (err) {
      refuse('dedup', { error: (err as Error).message });
      return;
    }

    const sender = new IngestSender({
      api: cfg.api,
      path: config.path || undefined,
      batchBytes: (num(config.batchKb, 500) || 500) * 1000,
      maxRequestBytes: (num(config.maxRequestKb, 1000) || 1000) * 1000,
      lingerMs: num(config.lingerMs, 50),
      concurrency: num(config.concurrency, 5) || 5,
      maxAttempts: num(config.maxAttempts, 5) || 5,
      maxRateLimitRetries: num(config.rateLimitRetries, 10),
      requestTimeoutMs: (num(config.requestTimeout, 15) || 15) * 1000,
      maxQueued: num(config.maxQueued, 100_000) || 100_000,
      retry: config.retryInitialMs ? { initialMs: config.retryInitialMs, maxMs: config.retryMaxMs ?? config.retryInitialMs * 8, minMs: 1 } : undefined,
    });
    const pipeline = new IngestPipeline(sender, dedup);
    const metrics = nodeMetrics(node, ['received', 'sent', 'failed', 'duplicates']);
    metrics.probe(() => ({ inFlight: sender.queued }));

    const auditMode = config.audit || 'off';
    let auditFile: AuditFile | null = null;
    if (auditMode === 'file' || auditMode === 'both') {
      const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
      const file = config.auditFile || path.join('genesys-ingest-audit', `${node.id.replace(/[^\w.-]/g, '_')}.log`);
      auditFile = new AuditFile({ file: path.resolve(userDir, file), maxBytes: (num(config.auditMaxMb, 10) || 10) * 1024 * 1024, keep: num(config.auditKeep, 5) || 5 });
      auditFile.on('error', (err: Error) => node.warn(RED._('genesys-events-out.errors.auditFile', { error: err.message })));
    }
    sender.on('audit', (rec: AuditRecord) => {
      auditFile?.write(rec);
      if (auditMode === 'output' || auditMode === 'both') node.send([null, { topic: 'genesys-ingest-audit', payload: rec } as NodeMessage]);
    });
    sender.on('budget', (bytes: number) => node.warn(RED._('genesys-events-out.errors.budget', { bytes: String(bytes) })));

    // Status: accepted events per second, events waiting, the last error for a minute.
    let lastError: { text: string; at: number } | null = null;
    const noteError = (text: string): void => { lastError = { text: text.slice(0, 40), at: Date.now() }; show(); };
    sender.on('failure', (e: IngestError) => noteError(e.status ? String(e.status) : e.kind));
    const rate = { accepted: 0, at: Date.now(), perSecond: 0 };
    let shown = '';
    const show = (): void => {
      const token = cfg.tokenStatus?.state;
      if (token === 'failed' || token === 'retrying') return; // genesys-config's fan-out shows it
      const args = { rate: rate.perSecond.toFixed(rate.perSecond >= 10 ? 0 : 1), queued: String(sender.queued) };
      if (lastError && Date.now() - lastError.at > 60_000) lastError = null;
      const st = lastError
        ? { fill: 'yellow', shape: 'ring', text: RED._('genesys-events-out.status.error', { ...args, error: lastError.text }) }
        : { fill: 'green', shape: 'dot', text: RED._('genesys-events-out.status.sending', args) };
      const key = JSON.stringify(st);
      if (key !== shown) { shown = key; node.status(st as any); }
    };
    const ticker = setInterval(() => {
      const now = Date.now();
      rate.perSecond = ((sender.stats.acceptedEvents - rate.accepted) * 1000) / Math.max(1, now - rate.at);
      rate.accepted = sender.stats.acceptedEvents;
      rate.at = now;
      if (rate.perSecond > 0 || sender.queued > 0 || shown) show();
    }, 1000);
    const onToken = (s: TokenStatus): void => { if (s.state === 'ready' && shown) { shown = ''; setImmediate(show); } };
    cfg.register(node);
    cfg.tokenManager.on('state', onToken);

    node.on('input', (msg: NodeMessageInFlow, send: (m: (NodeMessage | null)[]) => void, done: (err?: Error) => void) => {
      const out = msg as NodeMessageInFlow & { ingest?: Record<string, unknown> };
      let prepared;
      try {
        prepared = prepareEvents(msg.payload);
        metrics.received += prepared.events.length;
      } catch (err) {
        metrics.received++;
        metrics.failed++;
        if (err instanceof InvalidPayloadError) out.ingest = { errors: err.problems };
        noteError(RED._('genesys-events-out.status.invalid'));
        done(err as Error);
        return;
      }
      pipeline.submit(prepared).then((r: SubmitResult) => {
        out.ingest = { accepted: r.accepted, duplicates: r.duplicates, batchIds: r.batchIds };
        metrics.sent += r.accepted;
        metrics.duplicates += r.duplicates;
        metrics.failed += r.failed.length;
        if (r.failed.length === 0) {
          send([out, null]);
          done();
          return;
        }
        out.ingest.failed = r.failed.map((f) => ({
          index: f.index, interactionId: f.interactionId, kind: f.error.kind, status: f.error.status,
          message: f.error.message, body: f.error.body, batchId: f.error.batchId,
        }));
        done(new Error(failureSummary(r, prepared.events.length)));
      }).catch((err: Error) => done(err));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(ticker);
      cfg.tokenManager.off('state', onToken);
      const closeMs = Math.min(MAX_CLOSE_MS, num(config.closeTimeout, 10) * 1000);
      sender.close(closeMs)
        .then((report) => { if (report.unsent) node.warn(RED._('genesys-events-out.errors.unsent', { count: String(report.unsent) })); })
        .then(() => auditFile?.close())
        .then(() => dedup?.close())
        .catch((err: Error) => node.warn(err.message))
        .finally(() => { releaseNode(node.id, removed); node.status({}); cfg.deregister(node, done); });
    });
  }

  RED.nodes.registerType('genesys-events-out', GenesysEventsOut as any, {
    credentials: { redisPassword: { type: 'password' } },
  });
};

/** "2 of 5 events not accepted by Genesys: event[1] int-7: Genesys API POST … answered 400 …" */
function failureSummary(r: SubmitResult, total: number): string {
  const f = r.failed[0];
  const where = total > 1 ? `event[${f.index}] ${f.interactionId}` : f.interactionId;
  return `${r.failed.length} of ${total} event(s) not accepted by Genesys: ${where}: ${f.error.message}`;
}
