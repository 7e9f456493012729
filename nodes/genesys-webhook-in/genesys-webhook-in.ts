// genesys-webhook-in: receives pushed Genesys events over HTTPS, verifies their HS256 JWT, emits
// one message per event and (by default) answers only once every event is safe in Kafka/DLQ/dedup.
// The request handling lives in lib/ingest/webhook-receiver; this file is the Node-RED glue.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as nodePath from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { GenesysMeta } from '../../lib/events/message';
import { GenesysApiClient } from '../../lib/genesys/api-client';
import { TokenManager } from '../../lib/genesys/token-manager';
import type { GenesysApi } from '../../lib/genesys/types';
import { deliveryOf, deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { BATCH_ID_SUFFIX } from '../../lib/events/batch';
import { validateFilter } from '../../lib/ingest/filter';
import { claimsForMessage, JwtVerifier, type JwtFailure } from '../../lib/ingest/jwt';
import { deleteRegistration, upsertRegistration, type PushRegistrationSpec } from '../../lib/ingest/push-registration';
import { CombinedSecrets, FileSecrets, StaticSecrets, secretsFromEnv, type SecretEncoding } from '../../lib/ingest/secrets';
import { WebhookReceiver, type ReceivedBatch } from '../../lib/ingest/webhook-receiver';
import { WebhookPathsFile } from '../../lib/ingest/webhook-paths';
import { growth, health, nodeMetrics, observeAckLatency, releaseNode } from '../../lib/metrics';
import type { GenesysConfigNode } from '../genesys-config/types';
import { dropPlaceholders, holdPathUntilFlowsStart, listenDedicated, mountOnHttpNode, type Listener } from './http-route';

interface WebhookInDef extends NodeDef {
  path: string;
  ack: 'delivery' | 'receipt';
  /** 'event' (default): one message per event; 'request': one event batch per request (lib/events/batch.ts). */
  output?: 'event' | 'request';
  settlements: number | string;
  ackTimeout: number | string;          // seconds
  maxUnsettled: number | string;
  overloadStatus: '503' | '429';
  maxBodyKb: number | string;
  issuer: string;
  audience: string;
  clockTolerance: number | string;      // seconds
  secretSource: 'credentials' | 'file' | 'env';
  secretFile: string;
  secretEnv: string;                    // comma-separated variable names
  secretEncoding: SecretEncoding;
  tokenCache: boolean;
  listener: 'httpNode' | 'dedicated';
  port: number | string;
  host: string;
  genesys: string;                      // genesys-config id (optional)
  register: boolean;
  publicUrl: string;
  registrationName: string;
  filter: string;
  batchSize: number | string;
  maxRetries: number | string;
  initialDelayMs: number | string;
  maxDelayMs: number | string;
  backoffMultiplier: number | string;
  /** Tests: FileSecrets poll interval, ms. */
  secretPollMs?: number;
  /** Advanced (flow JSON only): seconds for a request body to arrive (default 15) and, on the dedicated listener, for its headers (default 20). */
  bodyTimeout?: number | string;
  headersTimeout?: number | string;
}

interface WebhookInCredentials { secret?: string; previousSecret?: string }

const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : parseFloat(String(v ?? ''));
  return Number.isFinite(n) ? n : dflt;
};

/** Runtimes whose events already end the redeploy placeholders (once per runtime, however often this module loads). */
const watchedRuntimes = new WeakSet<object>();

export = function (RED: NodeAPI): void {
  // A path keeps answering 503 while a deploy restarts its node; once the new flows started (or the
  // runtime stopped), paths nobody took back answer 404 again.
  const events = RED.events as unknown as NodeJS.EventEmitter | undefined;
  if (events && !watchedRuntimes.has(events)) {
    watchedRuntimes.add(events);
    events.on('flows:started', dropPlaceholders);
    events.on('runtime-event', (e: { id?: string; payload?: { state?: string; deploy?: boolean } }) => {
      if (e?.id === 'runtime-state' && e.payload?.state === 'stop' && !e.payload.deploy) dropPlaceholders();
    });
  }
  // A cold start (after a crash too) answers HTTP before its flows started: the last run's paths
  // answer 503 meanwhile, never 404.
  const userDir = (RED.settings as { userDir?: string }).userDir;
  const knownPaths = userDir ? new WebhookPathsFile(nodePath.join(userDir, 'genesys-webhook-in', 'paths.json')) : null;
  if (knownPaths && RED.settings.httpNodeRoot !== false) {
    for (const p of knownPaths.paths()) holdPathUntilFlowsStart(RED.httpNode, p);
  }

  function GenesysWebhookIn(this: Node<WebhookInCredentials>, config: WebhookInDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const creds = node.credentials ?? {};
    const encoding: SecretEncoding = config.secretEncoding === 'base64' ? 'base64' : 'text';
    const path = '/' + String(config.path || 'genesys/webhook').replace(/^\/+/, '');
    let listener: Listener | null = null;
    let closed = false;
    let fileSecrets: FileSecrets | null = null;
    let registrationId: string | undefined;
    let problem: string | null = null; // a red status that the rate ticker must not overwrite

    // A configuration problem: red status (kept until redeploy) and an error a Catch node sees.
    const fail = (key: string, err: unknown) => {
      problem = key;
      node.status({ fill: 'red', shape: 'ring', text: RED._(`genesys-webhook-in.status.${key}`) });
      node.error(RED._(`genesys-webhook-in.errors.${key}`, { error: err instanceof Error ? err.message : String(err) }));
    };

    // ---- secrets and verifier -------------------------------------------------------------
    let secrets: StaticSecrets | FileSecrets | CombinedSecrets;
    try {
      if (config.secretSource === 'file') {
        fileSecrets = new FileSecrets(config.secretFile, { encoding, pollMs: config.secretPollMs }).start();
        fileSecrets.on('error', (err: Error) => node.warn(RED._('genesys-webhook-in.errors.secrets-file', { error: err.message })));
        fileSecrets.on('change', (count: number) => {
          node.log(RED._('genesys-webhook-in.log.secrets-reloaded', { count }));
          if (registrationId) void register();
        });
        secrets = fileSecrets;
      } else if (config.secretSource === 'env') {
        secrets = secretsFromEnv(String(config.secretEnv || '').split(',').map((s) => s.trim()).filter(Boolean), encoding);
      } else {
        secrets = new StaticSecrets([creds.secret, creds.previousSecret], encoding);
      }
    } catch (err) {
      secrets = new StaticSecrets([]);
      fail('no-secret', err);
    }
    if (secrets.secrets().length === 0 && !problem) fail('no-secret', new Error('no signing secret configured'));
    if (secrets.secrets().some((k) => k.length < 32)) node.warn(RED._('genesys-webhook-in.errors.short-secret'));

    const verifier = new JwtVerifier({
      secrets,
      issuer: String(config.issuer || 'genesys-cloud').split(',').map((s) => s.trim()).filter(Boolean),
      audience: String(config.audience || 'your-ingestion-service').split(',').map((s) => s.trim()).filter(Boolean),
      clockToleranceSec: num(config.clockTolerance, 30),
      cacheSize: config.tokenCache === false ? 0 : 1000,
    });

    // ---- receiver -------------------------------------------------------------------------
    const emitEvents = (batch: ReceivedBatch) => {
      const claims = claimsForMessage(batch.claims);
      for (let i = 0; i < batch.events.length; i++) {
        const info = batch.infos[i];
        const genesys: GenesysMeta = { source: 'webhook', receivedAt: batch.receivedAt, claims: { ...claims } };
        if (batch.deliveryIds) genesys.deliveryId = batch.deliveryIds[i];
        if (info.topicName) genesys.topicName = info.topicName;
        const msg: Record<string, unknown> = { _msgid: RED.util.generateId(), payload: batch.events[i], genesys };
        if (info.conversationId) msg.key = info.conversationId;
        // One send per message: Node-RED deep-clones every message after the first of a single send() call.
        node.send(msg as any);
      }
    };
    // One message for the whole request: a hop per request instead of per event downstream.
    const emitRequest = (batch: ReceivedBatch) => {
      if (batch.events.length === 0) return;
      const genesys: GenesysMeta = { source: 'webhook', receivedAt: batch.receivedAt, claims: claimsForMessage(batch.claims), batch: true };
      if (batch.deliveryIds) genesys.deliveryId = deliveryOf(batch.deliveryIds[0]) + BATCH_ID_SUFFIX;
      if (batch.infos.some((info) => info.topicName)) genesys.topicNames = batch.infos.map((info) => info.topicName);
      const msg = { _msgid: RED.util.generateId(), payload: batch.events, keys: batch.infos.map((info) => info.conversationId), genesys };
      node.send(msg as any);
    };
    const emit = config.output === 'request' ? emitRequest : emitEvents;
    const receiver = new WebhookReceiver({
      verifier,
      emit,
      ack: config.ack === 'receipt' ? 'receipt' : 'delivery',
      tracker: deliveryTracker,
      expectedSettlements: Math.max(1, Math.floor(num(config.settlements, 1))),
      ackTimeoutMs: Math.max(0.01, num(config.ackTimeout, 10)) * 1000,
      maxUnsettled: Math.max(0, Math.floor(num(config.maxUnsettled, 10000))),
      overloadStatus: String(config.overloadStatus) === '429' ? 429 : 503,
      bodyLimit: Math.max(1, num(config.maxBodyKb, 1024)) * 1024,
      bodyTimeoutMs: Math.max(0.05, num(config.bodyTimeout, 15)) * 1000,
    });
    (node as any).receiver = receiver; // tests and metrics read receiver.stats

    // ---- metrics: events from the receiver's own counts; request → answer latency per status --
    const metrics = nodeMetrics(node, ['received', 'sent']);
    const counted = growth((name, n) => { metrics[name as 'received' | 'sent'] += n; });
    metrics.probe(() => { counted({ received: receiver.stats.events, sent: receiver.stats.events }); });
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const start = process.hrtime.bigint();
      res.once('finish', () => observeAckLatency(metrics, Number(process.hrtime.bigint() - start) / 1e9, res.statusCode));
      receiver.handle(req, res);
    };

    // ---- status: listening / events per second / backpressure / auth failures -------------
    let lastEvents = 0;
    let lastAuth = 0;
    let lastText = '';
    const authLogged: Partial<Record<JwtFailure, number>> = {};
    const tick = () => {
      if (problem || !listener) return;
      const s = receiver.stats;
      const rate = s.events - lastEvents;
      lastEvents = s.events;
      let status: { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring'; text: string };
      if (receiver.overloaded) {
        status = { fill: 'yellow', shape: 'ring', text: RED._('genesys-webhook-in.status.backpressure', { unsettled: deliveryTracker.unsettled }) };
      } else if (rate > 0) {
        status = { fill: 'green', shape: 'dot', text: RED._('genesys-webhook-in.status.rate', { rate }) };
      } else {
        status = { fill: 'green', shape: 'dot', text: RED._('genesys-webhook-in.status.listening', { where: listener.description }) };
      }
      if (s.authFailures > 0) status.text += ' · ' + RED._('genesys-webhook-in.status.auth-failures', { count: s.authFailures });
      if (status.text !== lastText) { lastText = status.text; node.status(status); }
    };
    const ticker = setInterval(tick, 1000);
    // Auth failures are summed up once a minute in the log: reasons help operators, never the caller.
    const authLog = setInterval(() => {
      const s = receiver.stats;
      if (s.authFailures === lastAuth) return;
      lastAuth = s.authFailures;
      const parts = Object.entries(s.authFailuresByReason)
        .map(([r, n]) => [r, n - (authLogged[r as JwtFailure] ?? 0)] as const).filter(([, n]) => n > 0)
        .map(([r, n]) => { authLogged[r as JwtFailure] = s.authFailuresByReason[r as JwtFailure]; return `${r} ${n}`; });
      node.warn(RED._('genesys-webhook-in.errors.auth-failures', { reasons: parts.join(', ') }));
    }, 60000);

    // ---- listen ---------------------------------------------------------------------------
    const start = async () => {
      if (config.listener === 'dedicated') {
        listener = await listenDedicated(Math.floor(num(config.port, 0)), config.host, path, handle, {
          headersTimeoutMs: Math.max(0.05, num(config.headersTimeout, 20)) * 1000,
          bodyTimeoutMs: Math.max(0.05, num(config.bodyTimeout, 15)) * 1000,
        });
      } else {
        if (RED.settings.httpNodeRoot === false) throw new Error('httpNodeRoot is disabled in settings: use a dedicated listener');
        const auth = !!RED.settings.httpNodeAuth;
        // httpNodeAuth (Basic) and the sender's bearer JWT both need the Authorization header.
        if (auth) node.warn(RED._('genesys-webhook-in.errors.http-node-auth'));
        listener = mountOnHttpNode(RED.httpNode, path, node.id, handle, { middleware: RED.settings.httpNodeMiddleware, auth });
        knownPaths?.set(node.id, path);
      }
      if (closed) { await listener.close(); return; }
      (node as any).listenerPort = (listener as { port?: number }).port;
      if (!problem) tick();
    };
    const ready = start().catch((err) => fail('listen-failed', err));
    const unregisterHealth = health.register(node.id, {
      type: 'genesys-webhook-in', name: node.name,
      check: () => ({ ready: !!listener && !problem, detail: problem ?? (listener ? `listening on ${listener.description}` : 'starting') }),
    });
    (node as any).ready = ready;

    // ---- optional registration (guide 000's POST /api/v2/notifications) --------------------
    const filterCheck = validateFilter(config.filter || '');
    if (!filterCheck.ok) fail('bad-filter', new Error(filterCheck.error));
    const genesysConfig = config.genesys ? (RED.nodes.getNode(config.genesys) as GenesysConfigNode | null) : null;
    const api = (): GenesysApi | undefined => genesysConfig?.api;
    // Removal runs while Node-RED closes the config node too (a full deploy closes everything at once),
    // so the DELETE uses a short-lived client of its own built from the config node's settings.
    const removalApi = (): { api: GenesysApi; close: () => void } | undefined => {
      const cfg = genesysConfig as (GenesysConfigNode & { credentials?: { clientId?: string; clientSecret?: string }; settings?: { scopes?: string } }) | null;
      if (!cfg?.endpoints || !cfg.credentials?.clientId || !cfg.credentials.clientSecret) return undefined;
      const tokens = new TokenManager({
        tokenUrl: cfg.endpoints.tokenUrl, clientId: cfg.credentials.clientId, clientSecret: cfg.credentials.clientSecret,
        scopes: cfg.settings?.scopes, maxAttempts: 2, proactive: false,
      });
      const client = new GenesysApiClient({ apiBase: cfg.endpoints.apiBase, tokens, timeoutMs: 5000 });
      return { api: client, close: () => { client.close(); tokens.close(); } };
    };
    const registrationName = config.registrationName || `node-red.genesys-webhook-in.${node.id}`;
    const register = async () => {
      const a = api();
      const secret = secrets.secrets()[0];
      if (closed || !a || !secret || !filterCheck.ok) return;
      const root = config.listener === 'dedicated' ? '' : String(RED.settings.httpNodeRoot || '/').replace(/\/$/, '');
      const spec: PushRegistrationSpec = {
        name: registrationName,
        filter: config.filter || '',
        targetUrl: String(config.publicUrl).replace(/\/$/, '') + root + path,
        audience: String(config.audience || 'your-ingestion-service').split(',')[0].trim(),
        signingSecret: encoding === 'base64' ? secret.toString('base64') : secret.toString('utf8'),
        secretEncoding: encoding,
        retry: {
          maxRetries: num(config.maxRetries, 5), initialDelayMs: num(config.initialDelayMs, 1000),
          maxDelayMs: num(config.maxDelayMs, 60000), backoffMultiplier: num(config.backoffMultiplier, 2),
        },
        batchSize: num(config.batchSize, 1),
      };
      try {
        const r = await upsertRegistration(a, spec);
        registrationId = r.id;
        node.log(RED._(r.created ? 'genesys-webhook-in.log.registered' : 'genesys-webhook-in.log.updated', { name: registrationName }));
      } catch (err) {
        node.error(RED._('genesys-webhook-in.errors.register-failed', { error: (err as Error).message }));
      }
    };
    const registering = config.register && config.publicUrl && genesysConfig ? ready.then(register) : Promise.resolve();
    (node as any).registering = registering;

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      unregisterHealth();
      clearInterval(ticker);
      clearInterval(authLog);
      receiver.close();
      fileSecrets?.close();
      const unregister = async () => {
        if (!removed || !config.register || !genesysConfig) return;
        await registering;
        const own = removalApi();
        if (!own) return;
        await deleteRegistration(own.api, { id: registrationId, name: registrationName })
          .catch((err) => node.warn(RED._('genesys-webhook-in.errors.unregister-failed', { error: (err as Error).message })))
          .finally(() => own.close());
      };
      const timeout = new Promise<void>((r) => setTimeout(r, 10000).unref());
      // Still in the flows (a redeploy): the path answers 503 until the new node takes it, never 404.
      Promise.race([Promise.all([ready.then(() => listener?.close(!removed)), unregister()]), timeout])
        .catch(() => undefined)
        .then(() => { releaseNode(node.id, removed); if (removed) knownPaths?.delete(node.id); node.status({}); done(); });
    });
  }

  RED.nodes.registerType('genesys-webhook-in', GenesysWebhookIn as any, {
    credentials: { secret: { type: 'password' }, previousSecret: { type: 'password' } },
  });

  // Editor: checks a filter expression as the user types (same parser as deploy and the simulator).
  RED.httpAdmin.post('/genesys-webhook-in/validate-filter', RED.auth.needsPermission('genesys-webhook-in.write'), (req: any, res: any) => {
    const filter = req.body?.filter;
    if (typeof filter !== 'string') { res.status(400).json({ ok: false, error: 'filter must be a string' }); return; }
    res.json(validateFilter(filter));
  });
};
