// genesys-eventstream-poll: polls guide 002's event stream (GET /api/v2/eventstreams/{id}/poll), or,
// for a real Genesys Cloud org, the conversation details query, and emits one message per event.
// Polling, pacing and the saved position live in lib/genesys/eventstream; this file is the glue.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { GenesysMeta } from '../../lib/events/message';
import { CallbackCursorStore, FileCursorStore, MemoryCursorStore, type CursorStore } from '../../lib/genesys/eventstream/cursor-store';
import { DetailsQueryPoller } from '../../lib/genesys/eventstream/details-query';
import { EventStreamPoller, type EventStreamSubscriptionSpec } from '../../lib/genesys/eventstream/poller';
import type { PolledEvent, PollLoop, PollSource, PollStatus } from '../../lib/genesys/eventstream/poll-loop';
import type { TokenStatus } from '../../lib/genesys/token-manager';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { health, nodeMetrics, releaseNode } from '../../lib/metrics';
import type { GenesysConfigNode } from '../genesys-config/types';

interface EventStreamPollDef extends NodeDef {
  genesys: string;
  mode: 'eventstream' | 'details-query';
  streamId: string;
  createSubscription: boolean;
  subscriptionName: string;
  eventTypes: string;                   // JSON array of {entityType, eventType, filter}
  interval: number | string;            // seconds
  pageSize: number | string;
  ack: 'delivery' | 'emit';
  ackTimeout: number | string;          // seconds
  store: 'file' | 'context' | 'memory';
  cursorFile: string;
  contextStore: string;
  resetExpiredCursor: boolean;
  query: string;                        // JSON object merged into the details query body
  lookback: number | string;            // minutes, details query without a saved position
  settle: number | string;              // seconds, details query re-query window
  /** Tests: backoff and error-retry timings (ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  errorRetryMs?: number;
}

const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : parseFloat(String(v ?? ''));
  return Number.isFinite(n) && n >= 0 ? n : dflt;
};

const CONTEXT_KEY = 'genesys-eventstream-position';

export = function (RED: NodeAPI): void {
  function GenesysEventStreamPoll(this: Node, config: EventStreamPollDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const mode: PollSource = config.mode === 'details-query' ? 'details-query' : 'eventstream';
    const cfg = RED.nodes.getNode(config.genesys) as GenesysConfigNode | null;
    const fail = (key: string, detail?: Record<string, string>): void => {
      node.status({ fill: 'red', shape: 'ring', text: `genesys-eventstream-poll.status.${key}` });
      node.error(RED._(`genesys-eventstream-poll.errors.${key}`, detail));
    };
    if (!cfg) { fail('noConfig'); return; }

    let subscription: EventStreamSubscriptionSpec | undefined;
    let query: Record<string, unknown> | undefined;
    try {
      if (mode === 'eventstream' && !config.streamId) {
        if (!config.createSubscription) throw new Error(RED._('genesys-eventstream-poll.errors.noStream'));
        const eventTypes = JSON.parse(config.eventTypes || '[]');
        if (!Array.isArray(eventTypes) || !eventTypes.length) throw new Error(RED._('genesys-eventstream-poll.errors.eventTypes'));
        subscription = { name: config.subscriptionName || `node-red-${node.id}`, eventTypes };
      }
      if (mode === 'details-query' && config.query && config.query.trim()) {
        query = JSON.parse(config.query);
        if (!query || typeof query !== 'object' || Array.isArray(query)) throw new Error(RED._('genesys-eventstream-poll.errors.query'));
      }
    } catch (err) {
      fail('config', { error: (err as Error).message });
      return;
    }

    const store = cursorStore(node, config);
    const common = {
      api: cfg.api,
      onPage: (events: PolledEvent[], source: PollSource) => emitPage(events, source),
      intervalMs: num(config.interval, 10) * 1000,
      errorRetryMs: config.errorRetryMs ?? 60_000,
      pacing: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs },
    };
    const poller: PollLoop = mode === 'eventstream'
      ? new EventStreamPoller({
        ...common, streamId: config.streamId || undefined, subscription, store: store as CursorStore<never>,
        pageSize: num(config.pageSize, 100) || 100, resetExpiredCursor: !!config.resetExpiredCursor,
      })
      : new DetailsQueryPoller({
        ...common, store: store as CursorStore<never>, pageSize: Math.min(100, num(config.pageSize, 100) || 100), query,
        initialLookbackMs: num(config.lookback, 60) * 60_000, settleMs: num(config.settle, 120) * 1000,
      });

    const metrics = nodeMetrics(node, ['received', 'sent']);
    const ackTimeoutMs = (num(config.ackTimeout, 30) || 30) * 1000;
    const closing = new AbortController();
    const topicName = (): string => (mode === 'eventstream' ? (poller as EventStreamPoller).stream : 'analytics.conversations.details');

    /** Sends each event as its own message; with ack 'delivery', resolves once every one was settled downstream. */
    async function emitPage(events: PolledEvent[], source: PollSource): Promise<void> {
      const delivery = config.ack === 'emit' ? null : deliveryTracker.open(events.length, ackTimeoutMs);
      events.forEach((e, i) => {
        const genesys: GenesysMeta = { source, receivedAt: e.receivedAt, topicName: topicName() };
        if (delivery) genesys.deliveryId = delivery.ids[i];
        node.send({ payload: e.payload, key: e.key, genesys } as NodeMessage);
      });
      rate.count += events.length;
      metrics.received += events.length;
      metrics.sent += events.length;
      if (!delivery) return;
      // One listener per page on the node's long-lived signal: removed once the page settled, or they pile up.
      let onAbort = (): void => undefined;
      const aborted = new Promise<never>((_, reject) => { onAbort = () => reject(new Error('closed')); });
      closing.signal.addEventListener('abort', onAbort, { once: true });
      let r;
      try {
        r = await Promise.race([delivery.result, aborted]);
      } finally {
        closing.signal.removeEventListener('abort', onAbort);
      }
      if (!r.ok) throw new Error(RED._('genesys-eventstream-poll.errors.unsettled', { settled: r.settled, expected: r.expected, seconds: ackTimeoutMs / 1000 }));
    }

    // Status: the poller's state, the event rate while polling; the config node's login trouble wins.
    const rate = { count: 0, since: Date.now(), perSecond: 0 };
    let last: PollStatus = { state: 'starting' };
    const show = (): void => {
      const token = cfg.tokenStatus?.state;
      if (token === 'failed' || token === 'retrying') return; // genesys-config's fan-out shows it
      const s = last;
      const secs = Math.ceil((s.delayMs ?? 0) / 1000);
      switch (s.state) {
        case 'polling': case 'idle':
          node.status({ fill: 'green', shape: 'dot', text: RED._('genesys-eventstream-poll.status.polling', { rate: rate.perSecond.toFixed(1) }) });
          break;
        case 'paced': node.status({ fill: 'yellow', shape: 'dot', text: RED._('genesys-eventstream-poll.status.paced', { seconds: secs }) }); break;
        case 'backoff': node.status({ fill: 'yellow', shape: 'ring', text: RED._('genesys-eventstream-poll.status.backoff', { seconds: secs, status: s.status ?? 'network' }) }); break;
        case 'error': node.status({ fill: 'red', shape: 'ring', text: RED._('genesys-eventstream-poll.status.error', { status: s.status ?? '' }) }); break;
        case 'stopped': node.status({}); break;
        default: node.status({ fill: 'yellow', shape: 'ring', text: RED._('genesys-eventstream-poll.status.starting') });
      }
    };
    const ticker = setInterval(() => {
      const now = Date.now();
      rate.perSecond = (rate.count * 1000) / Math.max(1, now - rate.since);
      rate.count = 0;
      rate.since = now;
      if (last.state === 'polling' || last.state === 'idle') show();
    }, 2000);
    ticker.unref();
    const onToken = (s: TokenStatus): void => { if (s.state === 'ready') setImmediate(show); };

    poller.on('status', (s: PollStatus) => { last = s; show(); });
    poller.on('warn', (w: string) => node.warn(w));
    poller.on('subscribed', (id: string) => node.log(RED._('genesys-eventstream-poll.log.subscribed', { id })));
    poller.on('pollError', (err: Error & { code?: string; status?: number; body?: unknown }) => {
      const meta: GenesysMeta = { source: mode, receivedAt: new Date().toISOString(), topicName: topicName() };
      node.error(err.message, { payload: { code: err.code, status: err.status, message: err.message, body: err.body }, genesys: meta } as NodeMessage);
    });

    // Ready once a poll was answered and until one fails; a 429 backoff is throttling, not an outage.
    let answered = false;
    poller.on('page', () => { answered = true; });
    poller.on('status', (s: PollStatus) => { if (s.state === 'error' || (s.state === 'backoff' && s.status !== 429)) answered = false; });
    const unregisterHealth = health.register(node.id, {
      type: 'genesys-eventstream-poll', name: node.name,
      check: () => ({ ready: answered, detail: (answered ? '' : 'no answer yet: ') + last.state + (last.status ? ` (${last.status})` : '') + (last.reason ? `: ${last.reason}` : '') }),
    });

    cfg.register(node);
    cfg.tokenManager.on('state', onToken);
    poller.start();

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(ticker);
      unregisterHealth();
      cfg.tokenManager.off('state', onToken);
      closing.abort();
      poller.stop().catch((err) => node.warn(String(err))).finally(() => {
        releaseNode(node.id, removed);
        node.status({});
        cfg.deregister(node, done);
      });
    });
  }

  /** Where the position lives: a file (atomic, fsynced), Node-RED context (the chosen store), or memory only. */
  function cursorStore(node: Node, config: EventStreamPollDef): CursorStore<unknown> {
    if (config.store === 'memory') return new MemoryCursorStore();
    if (config.store === 'context') {
      const ctx = node.context();
      const storeName = config.contextStore || undefined;
      return new CallbackCursorStore<unknown>(
        () => new Promise((resolve, reject) => ctx.get(CONTEXT_KEY, storeName as string, (err: Error | undefined, v: unknown) => (err ? reject(err) : resolve(v ?? undefined)))),
        (v) => new Promise((resolve, reject) => ctx.set(CONTEXT_KEY, v, storeName as string, (err?: Error) => (err ? reject(err) : resolve()))),
      );
    }
    const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    const file = config.cursorFile || path.join(userDir, 'genesys-eventstream', `${node.id.replace(/[^\w.-]/g, '_')}.json`);
    return new FileCursorStore(path.resolve(userDir, file));
  }

  RED.nodes.registerType('genesys-eventstream-poll', GenesysEventStreamPoll);
};
