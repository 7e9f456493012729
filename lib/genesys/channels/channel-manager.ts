// Notification channels end to end: topics sharded over channels (≤1000 each, ≤20 per client),
// sockets kept alive, and every replacement done make-before-break: the new channel is created,
// subscribed and connected before the old one is let go, so no event falls in between. When that
// is impossible (the socket died first) a 'gap' says which window and topics to backfill.
import { EventEmitter } from 'node:events';
import { ReconnectPolicy } from '../reconnect';
import { sleep } from '../backoff';
import { ChannelsApi, ChannelCapacityError, type ChannelInfo } from './channels-api';
import { ChannelPool } from './channel-pool';
import { NotificationSocket, type SocketDown, type SystemKind } from './notification-socket';
import { MAX_CHANNELS_PER_CLIENT, MAX_TOPICS_PER_CHANNEL, planShards } from './topics';
import type { ChannelEvent, ChannelGap, ChannelManagerOptions, Connection, ManagerState, ManagerStatus, Reason, Shard } from './manager-types';

export type { ChannelEvent, ChannelGap, ChannelManagerOptions, ManagerState, ManagerStatus } from './manager-types';

export class ChannelManager extends EventEmitter {
  readonly stats = { events: 0, garbage: 0, unknownTopic: 0, rejectedTopics: 0, gaps: 0, handovers: {} as Record<string, number> };
  private readonly opts: Required<Omit<ChannelManagerOptions, 'tokens' | 'reconnect'>> & Pick<ChannelManagerOptions, 'tokens' | 'reconnect'>;
  private readonly abort = new AbortController();
  private readonly rest: ChannelsApi;
  private readonly shards: Shard[] = [];
  private readonly pool: ChannelPool;
  private readonly sockets = new Set<NotificationSocket>();
  private stopped = false;
  private lastStatus = '';
  private readonly warned = new Map<string, number>();

  constructor(opts: ChannelManagerOptions) {
    super();
    this.opts = {
      maxTopicsPerChannel: MAX_TOPICS_PER_CHANNEL, maxChannels: MAX_CHANNELS_PER_CLIENT, idleTimeoutMs: 35_000, pingIntervalMs: 15_000,
      connectTimeoutMs: 15_000, maxFrameBytes: 8 * 1024 * 1024, rolloverLeadMs: 3_600_000, requestTimeoutMs: 10_000, ...opts,
    };
    this.rest = new ChannelsApi(opts.api, this.abort.signal, this.opts.requestTimeoutMs);
    this.pool = new ChannelPool(this.rest, this.opts.maxChannels, (ch) => this.leadFor(ch),
      () => this.shards.flatMap((s) => (s.conn && !s.conn.gone ? [s.conn.channel.id] : [])));
  }

  /** Topics currently wanted, across all channels. */
  get topics(): string[] {
    return this.shards.flatMap((s) => s.topics);
  }

  /** Channels created so far (replacements included). */
  get channelsCreated(): number {
    return this.pool.created;
  }

  /** Channel ids of the live connections, one per shard. */
  channelIds(): string[] {
    return this.shards.map((s) => s.conn?.channel.id).filter((id): id is string => Boolean(id));
  }

  status(): ManagerStatus {
    const shards = this.shards.length;
    const channels = this.shards.filter((s) => s.conn?.socket.isOpen).length;
    const failing = this.shards.find((s) => s.failing)?.failing;
    const state: ManagerState = this.stopped ? 'stopped' : !shards ? 'idle' : channels === shards ? 'connected'
      : failing?.hard ? 'error' : failing || this.shards.some((s) => s.conn) ? 'reconnecting' : 'connecting';
    return { state, channels, shards, ...(failing && state !== 'connected' ? { message: failing.message } : {}) };
  }

  /**
   * Subscribes exactly these topics, re-sharding as needed (throws ChannelLimitError, creating nothing,
   * when they cannot fit). Resolves once every channel had its first attempt; failures keep retrying.
   */
  async setTopics(topics: string[]): Promise<void> {
    if (this.stopped) throw new Error('channel manager stopped');
    const plan = planShards(this.shards.map((s) => s.topics), topics, this.opts.maxTopicsPerChannel, this.opts.maxChannels);
    const work: Promise<void>[] = [];
    plan.forEach((topicsOfShard, i) => {
      let shard = this.shards[i];
      if (!shard) {
        shard = { topics: [], conn: null, queue: Promise.resolve(), policy: new ReconnectPolicy({ initialMs: 2000, maxMs: 90_000, ...this.opts.reconnect }) };
        this.shards.push(shard);
      }
      shard.topics = topicsOfShard;
      work.push(this.enqueue(shard, () => this.sync(shard), true));
    });
    const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Shards left empty have been retired by sync(); drop them from the end.
    while (this.shards.length && !this.shards[this.shards.length - 1].topics.length && !this.shards[this.shards.length - 1].conn) {
      this.shards.pop();
    }
    this.emitStatus();
    if (failed) throw failed.reason;
  }

  /** Closes every socket and timer; best-effort unsubscribes so the platform stops sending. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    const channels: string[] = [];
    for (const s of this.shards) {
      if (s.conn) { clearTimeout(s.conn.rollover); if (!s.conn.gone) channels.push(s.conn.channel.id); }
    }
    for (const sock of this.sockets) sock.close();
    this.sockets.clear();
    const cleanup = new ChannelsApi(this.opts.api, undefined, 2000);
    await Promise.allSettled(channels.map((id) => cleanup.clearSubscriptions(id, 2000)));
    this.emitStatus();
  }

  /** Runs fn after the shard's earlier operations; its failure is warned about, or returned when `propagate`. */
  private enqueue(shard: Shard, fn: () => Promise<void>, propagate = false): Promise<void> {
    const run = shard.queue.then(() => (this.stopped ? undefined : fn()));
    shard.queue = run.catch(() => undefined);
    if (propagate) return run;
    return run.catch((err) => { if (!this.stopped) this.warn('op', `channel operation failed: ${(err as Error).message}`); });
  }

  /** Brings one shard in line with its topics: connect, resubscribe, or retire. */
  private async sync(shard: Shard): Promise<void> {
    const conn = shard.conn;
    if (!shard.topics.length) {
      shard.conn = null;
      shard.removed = true;
      if (conn) await this.retire(conn);
      return;
    }
    shard.removed = false;
    if (!conn || conn.downAt !== undefined) { await this.handover(shard, conn, conn ? 'dropped' : 'connect'); return; }
    const wanted = new Set(shard.topics);
    if (wanted.size === conn.topics.size && shard.topics.every((t) => conn.topics.has(t))) return;
    // Accept both sets while the PUT is in flight so no event of a kept or new topic is refused.
    const before = conn.topics;
    conn.topics = new Set([...conn.topics, ...wanted]);
    try {
      await this.subscribe(conn.channel.id, shard.topics);
    } catch (err) {
      conn.topics = before;
      throw err;
    }
    conn.topics = wanted;
  }

  /**
   * One attempt to replace shard.conn (`from`, null when not connected yet). A failure schedules the
   * next attempt after a jittered backoff instead of holding the shard's queue, so topic changes still run.
   */
  private async handover(shard: Shard, from: Connection | null, reason: Reason): Promise<void> {
    if (this.stopped || shard.conn !== from || shard.removed) return;
    if (from) from.retiring = true;
    try {
      await this.handoverOnce(shard, from, reason);
      shard.failing = undefined;
      shard.policy.reset();
      this.stats.handovers[reason] = (this.stats.handovers[reason] ?? 0) + 1;
    } catch (err) {
      if (this.stopped) return;
      const message = (err as Error).message;
      shard.failing = { message, hard: err instanceof ChannelCapacityError || (err as { status?: number }).status === 400 };
      this.warn(`handover:${reason}`, `notification channel ${reason}: ${message}`);
      if (!shard.retryPending) {
        shard.retryPending = true;
        sleep(shard.policy.next(), this.abort.signal).then(() => {
          shard.retryPending = false;
          void this.enqueue(shard, () => this.handover(shard, from, reason));
        }, () => undefined);
      }
    } finally {
      this.emitStatus();
    }
  }

  private async handoverOnce(shard: Shard, old: Connection | null, reason: Reason): Promise<void> {
    if (reason === 'token_revoked' && old) {
      old.gone = true;
      const t = await this.opts.tokens?.getToken().catch(() => undefined);
      if (t) this.opts.tokens?.invalidate(t);
    }
    // Unplanned drop (or maintenance with no spare channel): reconnect the same channel if it still exists.
    const sameChannelFirst = old && !old.gone && (reason === 'dropped' || (reason === 'socket_closing' && !this.pool.hasCapacity()));
    if (sameChannelFirst && old && old.channel.expiresAt - Date.now() > this.leadFor(old.channel)) {
      if (await this.rest.exists(old.channel.id)) {
        old.replacing = true;
        const conn = await this.connect(shard, old.channel, old.topics);
        this.swap(shard, old, conn, reason);
        return;
      }
      old.gone = true;
    }
    if (old && !old.gone && !this.pool.hasCapacity() && !this.pool.reusable()) {
      if (reason === 'no_longer_subscribed' || reason === 'expiry') {
        // No spare channel for make-before-break: resubscribe in place (this also extends the channel's life).
        const topics = [...shard.topics];
        await this.subscribe(old.channel.id, topics);
        old.topics = new Set(topics);
        if (old.lostFrom !== undefined) this.gap(old, old.lostFrom, Date.now(), reason);
        old.lostFrom = undefined;
        old.retiring = false;
        old.channel.expiresAt = (await this.rest.readExpiry(old.channel.id).catch(() => undefined)) ?? old.channel.expiresAt;
        // Not extended: no new rollover; at expiry the drop path reconnects and reports the gap.
        if (old.channel.expiresAt - this.leadFor(old.channel) > Date.now()) this.scheduleRollover(shard, old);
        return;
      }
    }
    const channel = await this.pool.acquire();
    // The topics as subscribed now: a topic change meanwhile is applied by the sync queued after us.
    const topics = [...shard.topics];
    let conn: Connection;
    try {
      await this.subscribe(channel.id, topics);
      conn = await this.connect(shard, channel, new Set(topics));
    } catch (err) {
      this.pool.retire(channel);
      throw err;
    }
    this.swap(shard, old, conn, reason);
  }

  /** The new connection takes over; the old one is let go only now (make-before-break). */
  private swap(shard: Shard, old: Connection | null, conn: Connection, reason: Reason): void {
    shard.conn = conn;
    this.scheduleRollover(shard, conn);
    if (!old) return;
    clearTimeout(old.rollover);
    const sameChannel = old.channel.id === conn.channel.id;
    // Same channel: the platform switches delivery to the newest socket, so only a death before we
    // started reconnecting lost events. New channel: any death before the new socket opened did.
    const died = old.downAt !== undefined && (!sameChannel || old.diedUnreplaced);
    const lostFrom = old.lostFrom ?? (died ? old.socket.lastInboundAt : undefined);
    if (lostFrom !== undefined) this.gap(conn, lostFrom, conn.socket.openedAt, reason);
    if (!sameChannel) void this.retire(old);
    else old.socket.close();
  }

  private gap(conn: Connection, from: number, to: number, reason: string): void {
    this.stats.gaps++;
    this.emit('gap', { from: new Date(from).toISOString(), to: new Date(to).toISOString(), topics: [...conn.topics], channelId: conn.channel.id, reason } satisfies ChannelGap);
  }

  /** Lets a channel go: socket closed, subscriptions removed, kept as a spare until it expires. */
  private async retire(conn: Connection): Promise<void> {
    clearTimeout(conn.rollover);
    conn.retiring = true;
    conn.socket.close();
    if (conn.gone) return;
    this.pool.retire(conn.channel);
    await this.rest.clearSubscriptions(conn.channel.id).catch(() => undefined);
  }

  private async subscribe(channelId: string, topics: string[]): Promise<void> {
    const res = await this.rest.replaceSubscriptions(channelId, topics);
    if (res.rejected.length) {
      this.stats.rejectedTopics += res.rejected.length;
      this.warn('rejected', `Genesys rejected ${res.rejected.length} topic(s), e.g. ${res.rejected[0].id}: ${res.rejected[0].reason}`);
    }
  }

  private async connect(shard: Shard, channel: ChannelInfo, topics: Set<string>): Promise<Connection> {
    const socket = new NotificationSocket({
      connectUri: channel.connectUri, channelId: channel.id, idleTimeoutMs: this.opts.idleTimeoutMs,
      pingIntervalMs: this.opts.pingIntervalMs, connectTimeoutMs: this.opts.connectTimeoutMs, maxFrameBytes: this.opts.maxFrameBytes,
    });
    const conn: Connection = { channel, socket, topics };
    this.sockets.add(socket);
    socket.on('envelope', (env, receivedAt: number) => {
      if (!conn.topics.has(env.topicName)) {
        this.stats.unknownTopic++;
        this.warn('unknown-topic', `event on a topic this channel did not subscribe: ${String(env.topicName).slice(0, 120)}`);
        return;
      }
      this.stats.events++;
      this.emit('event', { topicName: env.topicName, eventBody: env.eventBody, channelId: channel.id, receivedAt: new Date(receivedAt).toISOString(), metadata: env.metadata } satisfies ChannelEvent);
    });
    socket.on('garbage', (why: string, bytes: number) => {
      this.stats.garbage++;
      this.warn(`garbage:${why}`, `ignored a notification frame (${why}, ${bytes} bytes)`);
    });
    socket.on('system', (kind: SystemKind) => this.onSystem(shard, conn, kind));
    socket.on('down', (d: SocketDown) => {
      conn.downAt ??= Date.now();
      if (!conn.replacing) conn.diedUnreplaced = true;
      this.sockets.delete(socket);
      if (d.planned || this.stopped) return;
      if (!conn.retiring && shard.conn === conn) void this.enqueue(shard, () => this.handover(shard, conn, 'dropped'));
      this.emitStatus();
    });
    try {
      await socket.open();
    } catch (err) {
      this.sockets.delete(socket);
      throw err;
    }
    if (this.stopped) { socket.close(); throw new Error('channel manager stopped'); }
    return conn;
  }

  private onSystem(shard: Shard, conn: Connection, kind: SystemKind): void {
    if (kind === 'other' || this.stopped || shard.conn !== conn || conn.retiring) return;
    if (kind === 'no_longer_subscribed' || kind === 'token_revoked') conn.lostFrom ??= Date.now();
    conn.retiring = true; // its socket may close before the handover runs: that end is expected
    void this.enqueue(shard, () => this.handover(shard, conn, kind));
  }

  private leadFor(ch: ChannelInfo): number {
    return Math.min(this.opts.rolloverLeadMs, 0.2 * Math.max(0, ch.expiresAt - ch.createdAt));
  }

  private scheduleRollover(shard: Shard, conn: Connection): void {
    clearTimeout(conn.rollover);
    const due = conn.channel.expiresAt - this.leadFor(conn.channel) - Date.now();
    conn.rollover = setTimeout(() => {
      if (shard.conn === conn && !conn.retiring) void this.enqueue(shard, () => this.handover(shard, conn, 'expiry'));
    }, Math.min(Math.max(0, due), 2 ** 31 - 1));
  }

  private emitStatus(): void {
    const s = this.status();
    const key = JSON.stringify(s);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.emit('status', s);
  }

  /** 'warn' events, at most one per kind every 10 s (stats keep the counts). */
  private warn(kind: string, message: string): void {
    const now = Date.now();
    const last = this.warned.get(kind);
    if (last !== undefined && now - last < 10_000) return;
    this.warned.set(kind, now);
    this.emit('warn', message);
  }
}
