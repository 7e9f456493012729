// genesys-ws-in: Genesys Cloud events over WebSockets, one message per event. Mode "notification
// channels" (the real platform, guide 001) runs a ChannelManager (sharding, make-before-break,
// keep-alive) with REST backfill after gaps; mode "realtime analytics" runs guide 004's socket
// (simulator only). An optional janitor finalizes zombie conversations. Logic lives in lib/.
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { GenesysMeta } from '../../lib/events/message';
import { AnalyticsSocket, type AnalyticsSocketState } from '../../lib/genesys/analytics-socket';
import type { AnalyticsEventMessage, AnalyticsSubscribe, MediaType } from '../../lib/genesys/shapes';
import { ALL_CONVERSATIONS, Backfill, type BackfillEvent } from '../../lib/genesys/channels/backfill';
import { ChannelManager, type ChannelEvent, type ChannelGap, type ManagerStatus } from '../../lib/genesys/channels/channel-manager';
import { conversationIdOf } from '../../lib/genesys/channels/conversation-state';
import { DowntimeMarker } from '../../lib/genesys/downtime-marker';
import { applySubscriptionMessage, topicsOf, validateSpec, type SubscriptionSpec, type TopicTemplates } from '../../lib/genesys/channels/subscriptions';
import { parseIdList } from '../../lib/genesys/channels/topics';
import { MemoryJanitorStore, RedisJanitorStore, ZombieJanitor, type JanitorFinalize } from '../../lib/genesys/janitor';
import type { TokenStatus } from '../../lib/genesys/token-manager';
import { growth, health, nodeMetrics, releaseNode } from '../../lib/metrics';
import type { GenesysConfigNode } from '../genesys-config/types';

interface WsInDef extends NodeDef {
  genesys: string;
  mode: 'channels' | 'analytics';
  queueIds: string; queueIdsType: string;
  userIds: string; userIdsType: string;
  topics: string;
  queueTemplate: string; userTemplate: string;
  mediaTypes: string;                   // analytics filter, comma separated
  maxChannels: number | string;
  idleTimeout: number | string;         // s without inbound data → dead socket
  reconnectMax: number | string;        // s, backoff cap
  backfill: boolean;
  janitor: boolean;
  janitorThreshold: number | string;    // s
  janitorInterval: number | string;     // s between sweeps
  janitorRate: number | string;         // lookups per second
  janitorStore: 'memory' | 'redis';
  janitorRedisUrl: string;
  janitorPrefix: string;
}

const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : parseFloat(String(v ?? ''));
  return Number.isFinite(n) && n > 0 ? n : dflt;
};
const ANALYTICS_TOPIC = 'analytics.realtime.conversation';
const MEDIA: MediaType[] = ['voice', 'chat', 'email', 'sms'];

export = function (RED: NodeAPI): void {
  function GenesysWsIn(this: Node, config: WsInDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const cfg = RED.nodes.getNode(config.genesys) as GenesysConfigNode | null;
    const fail = (key: string, detail: Record<string, string> = {}): void => {
      node.status({ fill: 'red', shape: 'ring', text: `genesys-ws-in.status.${key}` });
      node.error(RED._(`genesys-ws-in.errors.${key}`, detail));
    };
    if (!cfg) {
      fail('noConfig');
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(new Error(RED._('genesys-ws-in.errors.noConfig'))));
      return;
    }
    const templates: TopicTemplates = { queueTemplate: config.queueTemplate, userTemplate: config.userTemplate };
    const list = (value: string, type: string): string[] => parseIdList(value ? RED.util.evaluateNodeProperty(value, type || 'str', node, {} as NodeMessage) : '');
    let spec: SubscriptionSpec;
    try {
      spec = validateSpec({ queueIds: list(config.queueIds, config.queueIdsType), userIds: list(config.userIds, config.userIdsType), topics: parseIdList(config.topics) }, templates);
    } catch (err) {
      fail('config', { error: (err as Error).message });
      spec = { queueIds: [], userIds: [], topics: [] };
    }
    const analytics = config.mode === 'analytics';
    const idleMs = num(config.idleTimeout, 35) * 1000;
    const reconnectMaxMs = num(config.reconnectMax, 90) * 1000;
    const reconnect = { initialMs: Math.min(2000, reconnectMaxMs / 4), maxMs: reconnectMaxMs };
    const rate = { count: 0, since: Date.now(), perSecond: 0 };
    const metrics = nodeMetrics(node, ['received', 'sent']);

    const emit = (topicName: string, payload: unknown, meta: Omit<GenesysMeta, 'topicName'>): void => {
      const genesys: GenesysMeta = { ...meta, topicName };
      const key = conversationIdOf(analytics && meta.source === 'analytics-ws' ? (payload as AnalyticsEventMessage).data : payload);
      node.send({ topic: topicName, payload, ...(key ? { key } : {}), genesys } as NodeMessage);
      rate.count++;
      metrics.received++;
      metrics.sent++;
    };

    // ---- backfill after gaps, janitor for zombies (both optional) ------------------------------
    // An analytics subscription without any filter covers every conversation: so does its backfill.
    const backfillTopics = (): string[] => {
      if (!analytics) return manager?.topics ?? [];
      const filtered = topicsOf({ ...spec, topics: [] });
      return filtered.length || parseIdList(config.mediaTypes).length ? filtered : [ALL_CONVERSATIONS];
    };
    const backfill = config.backfill === false ? null : new Backfill({ api: cfg.api, subscribedTopics: backfillTopics });
    backfill?.on('event', (e: BackfillEvent) => {
      janitor?.observe(e.topicName, e.eventBody);
      emit(e.topicName, e.eventBody, { source: 'backfill', receivedAt: e.receivedAt, backfilled: true });
    });
    backfill?.on('done', (d: { emitted: number; lookups: number }) => node.log(RED._('genesys-ws-in.log.backfilled', { emitted: d.emitted, lookups: d.lookups })));
    backfill?.on('warn', (w: string) => node.warn(w));
    const onGap = (gap: ChannelGap): void => {
      node.warn(RED._('genesys-ws-in.warn.gap', { from: gap.from, to: gap.to, topics: gap.topics.length, reason: gap.reason }));
      if (!backfill) return;
      // Until this gap is filled, a crash must find it again on the next start.
      const release = downtime?.hold(gap.from);
      void backfill.fill(gap).finally(release);
    };
    // The time this node was away (redeploy, restart, crash) is a gap too: the platform kept nothing,
    // and Node-RED drops the messages in flight when a flow stops. Needs a userDir (a real Node-RED has one).
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const downtime = backfill && userDir ? new DowntimeMarker(path.join(userDir, 'genesys-ws-in', `${node.id.replace(/[^\w.-]/g, '_')}.json`)) : null;
    let restartBackfilled = false;
    const onConnected = (): void => {
      if (!restartBackfilled && downtime?.previous) {
        restartBackfilled = true;
        onGap({ from: downtime.previous, to: new Date().toISOString(), topics: backfillTopics(), channelId: 'restart', reason: 'restart' });
      }
      downtime?.alive();
    };

    const janitor = config.janitor ? new ZombieJanitor({
      api: cfg.api,
      store: config.janitorStore === 'redis' ? new RedisJanitorStore(config.janitorRedisUrl || 'redis://127.0.0.1:6379', config.janitorPrefix || `genesys:janitor:${node.id}:`) : new MemoryJanitorStore(),
      thresholdMs: num(config.janitorThreshold, 4 * 3600) * 1000,
      sweepIntervalMs: num(config.janitorInterval, 60) * 1000,
      maxLookupsPerSecond: num(config.janitorRate, 2),
    }) : null;
    janitor?.on('finalize', (f: JanitorFinalize) => emit(f.topicName, f.eventBody, { source: 'janitor', receivedAt: new Date().toISOString(), synthetic: true }));
    janitor?.on('warn', (w: string) => node.warn(w));
    janitor?.start();

    // ---- the source: notification channels or the realtime analytics socket --------------------
    let manager: ChannelManager | null = null;
    let socket: AnalyticsSocket | null = null;
    let updateAnalytics = (): void => undefined;
    let state: { fill: 'green' | 'yellow' | 'red' | 'grey'; shape: 'dot' | 'ring'; key: string; detail?: Record<string, unknown> } = { fill: 'yellow', shape: 'ring', key: 'connecting' };
    let shown = '';
    const show = (): void => {
      const token = cfg.tokenStatus?.state;
      if (token === 'failed' || token === 'retrying') return; // genesys-config's fan-out shows login trouble
      const text = RED._(`genesys-ws-in.status.${state.key}`, { ...state.detail, rate: rate.perSecond.toFixed(1) });
      if (text === shown) return;
      shown = text;
      node.status({ fill: state.fill, shape: state.shape, text });
    };

    if (!analytics) {
      manager = new ChannelManager({
        api: cfg.api, tokens: cfg.tokenManager, maxChannels: num(config.maxChannels, 20), idleTimeoutMs: idleMs,
        pingIntervalMs: Math.max(50, idleMs / 2.5), reconnect,
      });
      manager.on('event', (e: ChannelEvent) => {
        backfill?.observe(e.topicName, e.eventBody);
        janitor?.observe(e.topicName, e.eventBody);
        emit(e.topicName, e.eventBody, { source: 'notification', receivedAt: e.receivedAt, channelId: e.channelId });
      });
      manager.on('gap', onGap);
      manager.on('warn', (w: string) => node.warn(w));
      manager.on('status', (s: ManagerStatus) => {
        if (s.state === 'connected') onConnected();
        state = s.state === 'connected' ? { fill: 'green', shape: 'dot', key: 'connected', detail: { channels: s.channels } }
          : s.state === 'error' ? { fill: 'red', shape: 'ring', key: 'error', detail: { error: (s.message ?? '').slice(0, 60) } }
            : s.state === 'idle' ? { fill: 'grey', shape: 'ring', key: 'noTopics' }
              : { fill: 'yellow', shape: 'ring', key: s.state === 'reconnecting' ? 'reconnecting' : 'connecting', detail: { channels: s.channels, shards: s.shards } };
        show();
      });
      const topics = topicsOf(spec, templates);
      if (!topics.length) { state = { fill: 'grey', shape: 'ring', key: 'noTopics' }; show(); }
      manager.setTopics(topics).catch((err: Error) => {
        state = { fill: 'red', shape: 'ring', key: 'error', detail: { error: err.message.slice(0, 60) } };
        show();
        node.error(RED._('genesys-ws-in.errors.subscribe', { error: err.message }));
      });
    } else {
      const mediaTypes = parseIdList(config.mediaTypes).filter((m): m is MediaType => (MEDIA as string[]).includes(m));
      const subscription = (): AnalyticsSubscribe => ({
        type: 'conversation',
        filters: { ...(spec.queueIds.length ? { queueIds: spec.queueIds } : {}), ...(spec.userIds.length ? { userIds: spec.userIds } : {}), ...(mediaTypes.length ? { mediaTypes } : {}) },
      });
      socket = new AnalyticsSocket({ tokens: cfg.tokenManager, apiBase: cfg.api.apiBase, subscription: subscription(), reconnect, deadAfterMs: idleMs, pingIntervalMs: Math.max(50, idleMs / 2.5) });
      socket.on('event', (m: AnalyticsEventMessage) => {
        janitor?.observe(ANALYTICS_TOPIC, m.data);
        emit(ANALYTICS_TOPIC, m, { source: 'analytics-ws', receivedAt: new Date().toISOString() });
      });
      socket.on('malformed', (_raw: string, reason: string) => node.warn(RED._('genesys-ws-in.warn.malformed', { reason })));
      socket.on('server-error', (m: Record<string, unknown>) => node.warn(RED._('genesys-ws-in.warn.serverError', { message: String(m.message ?? m.code ?? '').slice(0, 200) })));
      socket.on('gap', (g: { from: string; to: string }) => {
        metrics.reconnect('dropped'); // a gap is reported when the socket is open again after a drop
        onGap({ ...g, topics: backfillTopics(), channelId: 'analytics', reason: 'analytics socket down' });
      });
      socket.on('state', (s: AnalyticsSocketState) => {
        if (s === 'connected') onConnected();
        state = s === 'connected' ? { fill: 'green', shape: 'dot', key: 'analyticsConnected' }
          : { fill: 'yellow', shape: 'ring', key: s === 'reconnecting' ? 'analyticsReconnecting' : 'connecting' };
        show();
      });
      updateAnalytics = () => socket?.updateSubscription(subscription());
      socket.start();
    }

    // Reconnects per reason (dropped, socket_closing, expiry, ...) from the channel manager's own counts.
    const handovers = growth((reason, n) => { if (reason !== 'connect') metrics.reconnect(reason, n); });
    metrics.probe(() => { if (manager) handovers(manager.stats.handovers); });
    const unregisterHealth = health.register(node.id, {
      type: 'genesys-ws-in', name: node.name,
      check: () => ({ ready: state.key === 'connected' || state.key === 'analyticsConnected', detail: state.key + (state.detail?.error ? `: ${String(state.detail.error)}` : '') }),
    });

    const ticker = setInterval(() => {
      const now = Date.now();
      rate.perSecond = (rate.count * 1000) / Math.max(1, now - rate.since);
      rate.count = 0;
      rate.since = now;
      if (state.key === 'connected' || state.key === 'analyticsConnected') downtime?.alive(now);
      show();
    }, 2000);
    const onToken = (s: TokenStatus): void => { if (s.state === 'ready') { shown = ''; setImmediate(show); } };
    cfg.register(node);
    cfg.tokenManager.on('state', onToken);
    show();

    // Input: change the subscription at run time (msg.topics, or msg.payload.{queueIds,userIds,topics,action}).
    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      let next: SubscriptionSpec;
      try {
        next = applySubscriptionMessage(spec, msg as { topics?: unknown; payload?: unknown }, templates);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (socket) {
        spec = next;
        updateAnalytics();
        done();
        return;
      }
      manager!.setTopics(topicsOf(next, templates)).then(() => { spec = next; done(); }, (err: Error) => done(err));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(ticker);
      downtime?.close(removed);
      unregisterHealth();
      cfg.tokenManager.off('state', onToken);
      backfill?.stop();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, 10_000); });
      Promise.race([Promise.allSettled([manager?.stop(), socket?.close(), janitor?.stop()]), timeout]).then(() => {
        clearTimeout(timer);
        releaseNode(node.id, removed);
        node.status({});
        cfg.deregister(node, done);
      }, () => undefined);
    });
  }

  RED.nodes.registerType('genesys-ws-in', GenesysWsIn);
};
