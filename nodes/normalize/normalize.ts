// normalize node: a Genesys source event in, the normalized interaction event out (output 1),
// failures with the reason and the failing path out (output 2, never dropped), and optionally the
// untouched raw event with the same key (output 3) for guide 000's raw + normalized dual write.
// The mapping and validation live in lib/events/normalize.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import { normalizeEvent, SHAPES, type NormalizeFailure, type ShapeName } from '../../lib/events/normalize';
import { nodeMetrics, releaseNode } from '../../lib/metrics';
import { isEventBatch, mapMetaOf, splitBatch, subsetOf, type EventBatchMessage } from '../../lib/events/batch';

interface NormalizeDef extends NodeDef {
  shape?: 'auto' | ShapeName;
  rawOutput?: boolean;
}

/** Status is refreshed at most this often: at 10k events/s a status per message would flood the editor. */
const STATUS_INTERVAL_MS = 1000;

export = function (RED: NodeAPI): void {
  function NormalizeNode(this: Node, config: NormalizeDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const shape = config.shape && config.shape !== 'auto' && config.shape in SHAPES ? config.shape : undefined;
    const rawOutput = config.rawOutput === true;
    const metrics = nodeMetrics(node, ['received', 'sent', 'failed']);
    let normalized = 0;
    let failed = 0;
    let lastFailure = '';
    let statusTimer: NodeJS.Timeout | null = null;

    const showStatus = (): void => {
      statusTimer = null;
      node.status({
        fill: failed ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._(failed ? 'normalize.status.countsFailed' : 'normalize.status.counts', { ok: normalized, failed, last: lastFailure }),
      });
    };
    const touchStatus = (): void => {
      if (!statusTimer) statusTimer = setTimeout(showStatus, STATUS_INTERVAL_MS);
    };
    // The error output counts as handled only when something is wired to it; else Catch nodes get it.
    const errorOutputWired = (): boolean => ((node as any).wires?.[1]?.length ?? 0) > 0;

    /** What msg.error says about a failed event. */
    const errorOf = (e: NormalizeFailure) => ({
      reason: e.reason, code: e.code, message: e.message, path: e.path,
      ...(e.sourcePath ? { sourcePath: e.sourcePath } : {}), ...(e.shape ? { shape: e.shape } : {}),
      source: { id: node.id, type: node.type, name: node.name },
    });

    /**
     * An event batch (lib/events/batch.ts): the normalized events go on as one batch; each failed
     * event leaves on its own (output 2, or node.error for Catch nodes) so that the DLQ files it with
     * its own reason; the raw output gets the whole batch, as it came.
     */
    const inputBatch = (msg: EventBatchMessage, send: (m: any) => void, done: (err?: Error) => void): void => {
      const ok: unknown[] = [];
      const okAt: number[] = [];
      const keys: string[] = [];
      const failures: Record<string, any>[] = [];
      for (let i = 0; i < msg.payload.length; i++) {
        let r: ReturnType<typeof normalizeEvent>;
        try { r = normalizeEvent(msg.payload[i], mapMetaOf(msg, i), { shape }); } catch (err) {
          r = { ok: false, error: { reason: 'validation', code: 'unknown-shape', path: '', message: String((err as Error)?.message ?? err) } };
        }
        if (r.ok) { ok.push(r.event); okAt.push(i); keys.push(r.event.conversation_id); continue; }
        lastFailure = r.error.path || r.error.code;
        failures.push({ ...splitBatch(subsetOf(msg, [i]))[0], error: errorOf(r.error) });
      }
      normalized += ok.length;
      failed += failures.length;
      metrics.sent += ok.length;
      metrics.failed += failures.length;
      touchStatus();
      const good = ok.length ? { ...subsetOf(msg, okAt, ok), keys } : null;
      const toErrorOutput = failures.length > 0 && errorOutputWired();
      if (good || toErrorOutput || rawOutput) send([good, toErrorOutput ? failures : null, rawOutput ? msg : null]);
      if (!toErrorOutput) {
        for (const f of failures) node.error(Object.assign(new Error(f.error.message), { reason: f.error.reason, path: f.error.path }), f as any);
      }
      done();
    };

    node.on('input', (msg: NodeMessageInFlow & Record<string, any>, send, done) => {
      metrics.received++;
      if (isEventBatch(msg)) {
        metrics.received += msg.payload.length - 1; // events, not messages
        inputBatch(msg, send, done);
        return;
      }
      let result: ReturnType<typeof normalizeEvent>;
      try {
        result = normalizeEvent(msg.payload, msg.genesys, { shape });
      } catch (err) {
        // normalizeEvent returns failures as values; this is a bug guard, still never a lost message.
        result = { ok: false, error: { reason: 'validation', code: 'unknown-shape', path: '', message: String((err as Error)?.message ?? err) } };
      }
      if (result.ok) {
        normalized++;
        metrics.sent++;
        touchStatus();
        const raw = msg.payload;
        const key = result.event.conversation_id;
        // The raw copy is built before msg changes; Node-RED clones it for its wire anyway.
        const rawMsg = rawOutput ? { ...msg, payload: raw, key } : null;
        msg.payload = result.event;
        msg.key = key;
        send(rawOutput ? [msg, null, rawMsg] : [msg, null]);
        done();
        return;
      }
      failed++;
      metrics.failed++;
      // The raw staging topic keeps everything that arrived, valid or not (and a dual-write source
      // expecting two settlements per event gets its second one from there).
      const rawCopy = rawOutput ? { ...msg } : null;
      const e: NormalizeFailure = result.error;
      lastFailure = e.path || e.code;
      touchStatus();
      msg.error = errorOf(e);
      if (errorOutputWired()) {
        send(rawOutput ? [null, msg, rawCopy] : [null, msg]);
        done();
      } else {
        if (rawCopy) send([null, null, rawCopy]);
        const err = new Error(e.message) as Error & { reason?: string; path?: string };
        err.reason = e.reason;
        err.path = e.path;
        done(err);
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      releaseNode(node.id, removed);
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('normalize', NormalizeNode);
};
