// dedup node: one pass per event key within a window (guide 000), in process or shared through
// Redis by active-active Node-RED instances (guide 001). Output 1 unique, output 2 duplicates,
// output 3 messages it could not decide about (no key; Redis down in fail-closed mode).
// A message whose source waits for acknowledgement (msg.genesys.deliveryId) claims its key as
// pending until its delivery ends: stored when it succeeded, given back when it failed, so that the
// sender's retry of an event not yet safe is never acknowledged as a duplicate. A dropped duplicate
// of a stored event is settled for webhook acknowledgement. Logic: lib/events/dedup.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  compileKey, createDedupStore, MemoryDedupStore, RedisDedupStore, DEFAULT_KEY_PREFIX, DEFAULT_MAX_ENTRIES, DEFAULT_WINDOW_SECONDS,
  DUPLICATE, DUPLICATE_PENDING, UNIQUE, type ClaimResult, type DedupStore, type KeyFn, type KeyMode, type RedisHealth,
} from '../../lib/events/dedup';
import { deliveryOf, deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { eventView, isEventBatch, mapMetaOf, subsetOf, type EventBatchMessage } from '../../lib/events/batch';
import { eventKey } from '../../lib/events/normalize';
import { sortBatch } from '../../lib/events/dedup/batch-sort';
import { nodeMetrics, releaseNode } from '../../lib/metrics';

interface DedupDef extends NodeDef {
  keyMode?: KeyMode;
  key?: string;
  window?: string | number;
  store?: 'memory' | 'redis';
  maxEntries?: string | number;
  redisUrl?: string;
  keyPrefix?: string;
  failMode?: 'open' | 'closed';
  commandTimeout?: string | number;
  duplicates?: 'output' | 'drop';
  settleCount?: string | number;
}

type Msg = NodeMessageInFlow & Record<string, any>;
const STATUS_INTERVAL_MS = 1000;

export = function (RED: NodeAPI): void {
  function DedupNode(this: Node<{ redisPassword?: string }>, config: DedupDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const dropDuplicates = config.duplicates === 'drop';
    const settleCount = Math.max(1, Math.floor(Number(config.settleCount) || 1));
    const failMode = config.failMode === 'closed' ? 'closed' : 'open';
    const counts = { unique: 0, duplicate: 0, failed: 0 };
    const metrics = nodeMetrics(node, ['received', 'sent', 'duplicates', 'failed']);
    let statusTimer: NodeJS.Timeout | null = null;
    let setupError: string | undefined;
    let warnedFull = false;
    let keyOf: KeyFn = () => undefined;
    // The auto key of a batch's events straight from each payload (no per-event message view).
    const autoKey = (config.keyMode ?? 'auto') === 'auto';
    let store: DedupStore | undefined;

    try {
      keyOf = compileKey(config.keyMode ?? 'auto', config.key ?? '');
      store = createDedupStore({
        store: config.store === 'redis' ? 'redis' : 'memory',
        windowSeconds: config.window === undefined || config.window === '' ? DEFAULT_WINDOW_SECONDS : Number(config.window),
        maxEntries: Number(config.maxEntries) || DEFAULT_MAX_ENTRIES,
        redisUrl: config.redisUrl || undefined,
        redisPassword: node.credentials?.redisPassword || undefined,
        keyPrefix: config.keyPrefix || DEFAULT_KEY_PREFIX,
        failMode,
        commandTimeoutMs: Number(config.commandTimeout) || undefined,
      });
    } catch (err) {
      setupError = (err as Error).message;
      node.error(RED._('dedup.errors.config', { error: setupError }));
      node.status({ fill: 'red', shape: 'ring', text: 'dedup.status.config' });
    }
    const memory = store instanceof MemoryDedupStore ? store : undefined;
    const redis = store instanceof RedisDedupStore ? store : undefined;

    const showStatus = (): void => {
      statusTimer = null;
      if (setupError) return;
      const n = { unique: counts.unique, duplicate: counts.duplicate, failed: counts.failed };
      const health: RedisHealth | undefined = redis?.health;
      if (health === 'connecting') node.status({ fill: 'grey', shape: 'ring', text: 'dedup.status.connecting' });
      else if (health === 'down') {
        node.status(failMode === 'open'
          ? { fill: 'yellow', shape: 'ring', text: RED._('dedup.status.downOpen', n) }
          : { fill: 'red', shape: 'ring', text: RED._('dedup.status.downClosed', n) });
      } else if (memory && memory.prematureEvictions > 0) {
        if (!warnedFull) { warnedFull = true; node.warn(RED._('dedup.warn.full', { max: memory.maxEntries })); }
        node.status({ fill: 'yellow', shape: 'dot', text: RED._('dedup.status.full', n) });
      } else node.status({ fill: 'green', shape: 'dot', text: RED._(redis ? 'dedup.status.redis' : 'dedup.status.memory', n) });
    };
    const touchStatus = (): void => {
      if (!statusTimer) statusTimer = setTimeout(showStatus, STATUS_INTERVAL_MS);
    };
    showStatus();

    redis?.on('health', (h: RedisHealth, err?: Error) => {
      if (h === 'down') {
        node.warn(RED._(failMode === 'open' ? 'dedup.warn.downOpen' : 'dedup.warn.downClosed', { error: err?.message ?? 'connection lost' }));
      } else if (h === 'ready') node.log(RED._('dedup.log.ready'));
      showStatus();
    });

    const wired = (output: number): boolean => ((node as any).wires?.[output]?.length ?? 0) > 0;

    /** msg.error for output 3, and the Error that done(err) / node.error give Catch nodes. */
    const failureOf = (reason: string, code: string, message: string) => ({
      error: { reason, code, message, source: { id: node.id, type: node.type, name: node.name } },
      err: Object.assign(new Error(message), { reason, code }),
    });

    /** Output 3 when wired, else done(err) so that Catch nodes see it: never silently lost. */
    const fail = (msg: Msg, send: (m: any) => void, done: (err?: Error) => void, reason: string, code: string, message: string): void => {
      counts.failed++;
      metrics.failed++;
      touchStatus();
      const f = failureOf(reason, code, message);
      msg.error = f.error;
      if (wired(2)) { send([null, null, msg]); done(); return; }
      done(f.err);
    };

    /** The delivery of each pending claim this node made (bounded by the deliveries in flight). */
    const pendingBy = new Map<string, string>();

    /**
     * Ties key's claim to the message's delivery: stored once that delivery succeeded (this copy is
     * safe); given back when it failed, if this copy made the claim (owned). A delivery that already
     * ended before we got here failed (this copy was not settled yet), so the claim goes at once.
     */
    const follow = (s: DedupStore, key: string, deliveryId: string, owned: boolean): void => {
      const delivery = deliveryOf(deliveryId);
      if (owned) pendingBy.set(key, delivery);
      const hook = (ok: boolean): void => {
        if (owned && pendingBy.get(key) === delivery) pendingBy.delete(key);
        if (ok) void s.promote(key).catch(() => undefined);
        else if (owned) void s.release(key).catch(() => undefined);
      };
      if (!deliveryTracker.onDone(deliveryId, hook)) hook(false);
    };

    const decide = (msg: Msg, key: string, deliveryId: string | undefined, r: ClaimResult, send: (m: any) => void, done: (err?: Error) => void): void => {
      if (r.outcome === 'error') {
        fail(msg, send, done, 'transport', 'redis-unavailable', RED._('dedup.errors.redis', { error: r.error?.message ?? 'unknown' }));
        return;
      }
      // A repeat whose first copy is still in flight (here or in another instance) and whose own sender
      // waits for the ack passes: settling it as a duplicate would acknowledge an event that a crash
      // could still lose. Kafka may then hold the event twice (at-least-once; consumers key on event_id).
      // A repeat inside the delivery that made the pending claim is a plain duplicate: that delivery
      // succeeds only once the first copy is safe too.
      const inFlight = r.outcome === 'duplicate' && r.existing === 'pending' && deliveryId !== undefined
        && pendingBy.get(key) !== deliveryOf(deliveryId);
      const duplicate = r.outcome === 'duplicate' && !inFlight;
      if (deliveryId !== undefined && !duplicate && store) follow(store, key, deliveryId, !inFlight);
      msg.dedup = { key, duplicate, ...(inFlight ? { inFlight: true } : {}), ...(r.degraded ? { degraded: true } : {}) };
      touchStatus();
      if (!duplicate) {
        counts.unique++;
        metrics.sent++;
        send([msg, null, null]);
      } else {
        counts.duplicate++;
        metrics.duplicates++;
        // Dropped (or sent to an output nothing listens on): this node is the event's last stop.
        if (dropDuplicates || !wired(1)) for (let i = 0; i < settleCount; i++) deliveryTracker.settle(msg as { genesys?: { deliveryId?: string } }, 'duplicate');
        if (!dropDuplicates) send([null, msg, null]);
      }
      done();
    };

    /**
     * An event batch (lib/events/batch.ts): every event claimed in the same round (one Redis call),
     * then one message per output with the events that belong there. Events without a key or
     * undecided (fail-closed) go to output 3, or are reported to Catch nodes with done(err).
     */
    const inputBatch = (msg: EventBatchMessage & Msg, s: DedupStore, send: (m: any) => void, done: (err?: Error) => void): void => {
      const n = msg.payload.length;
      const deliveryId = typeof msg.genesys.deliveryId === 'string' && msg.genesys.deliveryId !== '' ? msg.genesys.deliveryId : undefined;
      const keys: (string | undefined)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        try { keys[i] = autoKey ? eventKey(msg.payload[i], mapMetaOf(msg, i)) : keyOf(eventView(msg, i) as unknown as Msg); } catch { keys[i] = undefined; }
      }
      const claimed: string[] = [];
      for (const k of keys) if (k !== undefined) claimed.push(k);
      s.claimMany(claimed, { pending: deliveryId !== undefined }).then((answers) => {
        const { unique, duplicate, failed, owned, degraded, noKey, error: redisError } = sortBatch(keys, answers, deliveryId === undefined ? undefined : deliveryOf(deliveryId), pendingBy);
        if (deliveryId !== undefined && unique.length > 0) followBatch(s, unique.map((i) => keys[i]!), owned, deliveryId);
        counts.unique += unique.length;
        counts.duplicate += duplicate.length;
        metrics.sent += unique.length;
        metrics.duplicates += duplicate.length;
        touchStatus();
        const out: [any, any, any] = [null, null, null];
        const info = { unique: unique.length, duplicate: duplicate.length, ...(degraded ? { degraded: true } : {}) };
        if (unique.length) out[0] = { ...subsetOf(msg, unique), dedup: info };
        if (duplicate.length) {
          const dups = { ...subsetOf(msg, duplicate), dedup: info };
          if (dropDuplicates || !wired(1)) for (let k = 0; k < settleCount; k++) deliveryTracker.settle(dups, 'duplicate');
          if (!dropDuplicates) out[1] = dups;
        }
        // Events without a key (validation: retrying cannot help) and events Redis could not decide
        // (transport: worth retrying) leave separately, each with its own reason.
        const rejects: { msg: Record<string, unknown>; error: Error }[] = [];
        // The message is built only when there are failures: RED._ is a lookup too slow to run per batch.
        const reject = (idx: number[], reason: string, code: string, message: () => string): void => {
          if (idx.length === 0) return;
          counts.failed += idx.length;
          metrics.failed += idx.length;
          const f = failureOf(reason, code, message());
          rejects.push({ msg: { ...subsetOf(msg, idx), error: f.error }, error: f.err });
        };
        reject(noKey, 'validation', 'no-key', () => RED._('dedup.errors.noKey', { mode: config.keyMode ?? 'auto', key: config.key ?? '' }));
        reject(failed, 'transport', 'redis-unavailable', () => RED._('dedup.errors.redis', { error: redisError?.message ?? 'unknown' }));
        let err: Error | undefined;
        if (rejects.length && wired(2)) out[2] = rejects.length === 1 ? rejects[0].msg : rejects.map((r) => r.msg);
        else if (rejects.length) {
          // done(err) reports the message it was given: narrow it to the events that failed; a second
          // kind of failure goes to Catch nodes through node.error with its own narrowed message.
          if (rejects.length > 1) node.error(rejects[1].error, { ...msg, ...rejects[1].msg });
          Object.assign(msg, rejects[0].msg);
          err = rejects[0].error;
        }
        if (out[0] || out[1] || out[2]) send(out);
        done(err);
      }, (err) => { metrics.failed += n; done(err); });
    };

    /** follow() for the events of one batch: one delivery hook for all of them. */
    const followBatch = (s: DedupStore, keys: string[], owned: string[], deliveryId: string): void => {
      const delivery = deliveryOf(deliveryId); // sortBatch() put the owned keys in pendingBy already
      const hook = (ok: boolean): void => {
        for (const key of owned) if (pendingBy.get(key) === delivery) pendingBy.delete(key);
        if (ok) void s.promoteMany(keys).catch(() => undefined);
        else for (const key of owned) void s.release(key).catch(() => undefined);
      };
      if (!deliveryTracker.onDone(deliveryId, hook)) hook(false);
    };

    node.on('input', (msg: Msg, send, done) => {
      metrics.received++;
      if (!store) {
        fail(msg, send, done, 'validation', 'config', RED._('dedup.errors.config', { error: setupError ?? '' }));
        return;
      }
      if (isEventBatch(msg)) {
        metrics.received += msg.payload.length - 1; // events, not messages
        inputBatch(msg as EventBatchMessage & Msg, store, send, done);
        return;
      }
      let key: string | undefined;
      try { key = keyOf(msg); } catch { key = undefined; }
      if (key === undefined) {
        fail(msg, send, done, 'validation', 'no-key', RED._('dedup.errors.noKey', { mode: config.keyMode ?? 'auto', key: config.key ?? '' }));
        return;
      }
      const id = msg.genesys?.deliveryId;
      const deliveryId = typeof id === 'string' && id !== '' ? id : undefined;
      const pending = deliveryId !== undefined;
      if (memory) {
        const existing = memory.tryClaim(key, pending ? 'pending' : 'stored');
        decide(msg, key, deliveryId, existing === undefined ? UNIQUE : existing === 'pending' ? DUPLICATE_PENDING : DUPLICATE, send, done);
        return;
      }
      store.claim(key, { pending }).then((r) => decide(msg, key, deliveryId, r, send, done), (err) => { metrics.failed++; done(err); });
    });

    node.on('close', (removed: boolean, done: () => void) => {
      releaseNode(node.id, removed);
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      redis?.removeAllListeners('health');
      pendingBy.clear();
      const closing = store ? store.close() : Promise.resolve();
      closing.catch(() => undefined).then(() => { node.status({}); done(); });
    });
  }

  RED.nodes.registerType('dedup', DedupNode as any, { credentials: { redisPassword: { type: 'password' } } });
};
