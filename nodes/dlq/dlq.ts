// dlq: the end of every failure path. Retryable failures go back out on output 1 (wire it to
// kafka-out again) with backoff; the rest, and those out of retries, become dead letters in the
// DLQ topic through the kafka-broker's shared producer, or in a local fsynced spool while Kafka
// is down. done() comes only once the dead letter is safe; output 2 gets it for alerting.
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import { DlqHandler } from '../../lib/kafka/dlq-handler';
import { DeadLetterWriter } from '../../lib/kafka/dlq-writer';
import { DEFAULT_DLQ_TOPIC } from '../../lib/kafka/dlq-record';
import { dlqStatus } from '../../lib/kafka/dlq-status';
import { DeadLetterSpool, SpoolFullError } from '../../lib/kafka/spool';
import type { KafkaBrokerApi, ProducerHandle, ProducerStatus, ConnectionState } from '../../lib/kafka/producer';
import { isEventBatch, splitBatch } from '../../lib/events/batch';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { growth, nodeMetrics, releaseNode } from '../../lib/metrics';

interface DlqDef extends NodeDef {
  broker: string;
  topic?: string;
  retries?: string | number;
  retryBaseMs?: string | number;
  retryMaxMs?: string | number;
  maxPendingRetries?: string | number;
  spoolDir?: string;
  spoolMaxMb?: string | number;
  spoolAfterMs?: string | number;
  drainRetryMaxMs?: string | number;
  includeStack?: boolean;
}

const num = (v: unknown, dflt: number, min = 0): number => {
  const n = Number(v);
  return v === '' || v === undefined || v === null || !Number.isFinite(n) ? dflt : Math.max(min, n);
};

export = function (RED: NodeAPI): void {
  function DlqNode(this: Node, config: DlqDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const t = (key: string, vars?: Record<string, string | number>): string => RED._(key, vars as any);
    const broker = RED.nodes.getNode(config.broker) as unknown as KafkaBrokerApi | null;
    const topic = (config.topic || '').trim() || DEFAULT_DLQ_TOPIC;
    const spoolAfterMs = num(config.spoolAfterMs, 5000, 100);
    const userDir = (RED.settings as any).userDir as string | undefined;
    const spoolDir = (config.spoolDir || '').trim() || path.join(userDir || os.tmpdir(), 'genesys-dlq-spool', node.id);
    let state: ConnectionState = 'idle';
    let problem: string | undefined;
    let handle: ProducerHandle | null = null;
    let writer: DeadLetterWriter | null = null;
    let spool: DeadLetterSpool | null = null;
    let closing = false;

    const ready: Promise<DeadLetterWriter> = (async () => {
      if (!broker || typeof broker.acquire !== 'function') throw new Error(t('dlq.errors.no-broker'));
      spool = await DeadLetterSpool.open({ dir: spoolDir, maxBytes: num(config.spoolMaxMb, 256, 1) * 1024 * 1024 });
      if (closing) throw new Error(t('dlq.errors.closed'));
      handle = broker.acquire(node as any, {
        // Records not sent within spoolAfterMs leave the queue unsent (then the spool takes them):
        // a record the writer spooled must not also go out later from this queue.
        ownStatus: true, lingerMs: 5, retries: 2, retryBackoffMs: 200, deliveryTimeoutMs: spoolAfterMs,
      });
      writer = new DeadLetterWriter({ producer: handle, spool, spoolAfterMs, drainRetryMaxMs: num(config.drainRetryMaxMs, 30_000, 100) });
      handle.on('state', onState);
      writer.on('change', updateStatus);
      writer.on('rejected', (_r, err: Error) => node.error(t('dlq.errors.rejected', { dir: spoolDir, error: String(err?.message ?? err) })));
      writer.on('drain-failed', () => updateStatus());
      writer.on('drained', () => clearSpoolFull());
      if (spool.depth > 0) node.log(t('dlq.log.recovered', { count: spool.depth, dir: spoolDir }));
      return writer;
    })();
    ready.catch((err: Error) => {
      problem = err.message;
      node.error(t('dlq.errors.setup', { error: err.message }));
      updateStatus();
    });

    const handler = new DlqHandler({
      nodeId: node.id,
      topic,
      retries: num(config.retries, 3),
      retryBaseMs: num(config.retryBaseMs, 1000, 1),
      retryMaxMs: num(config.retryMaxMs, 30_000, 1),
      maxPendingRetries: num(config.maxPendingRetries, 10_000, 0),
      includeStack: config.includeStack !== false,
      writer: ready,
    });

    // The handler and writer count for themselves; a scrape copies their growth.
    const metrics = nodeMetrics(node, ['received', 'dlqRetries', 'failed', 'kafkaAcks']);
    const byReason = growth((reason, n) => metrics.deadLetter(reason, n));
    const totals = growth((name, n) => { metrics[name as 'dlqRetries' | 'failed' | 'kafkaAcks'] += n; });
    metrics.probe(() => {
      const w = (writer as DeadLetterWriter | null)?.stats();
      byReason(handler.counters.byReason);
      totals({ dlqRetries: handler.counters.retried, failed: handler.counters.failed, kafkaAcks: w ? w.kafka + w.drained : 0 });
      return { inFlight: handler.counters.pendingRetries, spoolDepth: w?.spoolDepth ?? 0 };
    });

    function onState(s: ProducerStatus): void {
      if (s.state === 'connected' && state !== 'connected') writer?.kick();
      state = s.state;
      updateStatus();
    }

    // Status at most every 250 ms: at 10k failures/s node.status would be a hot path.
    let statusTimer: NodeJS.Timeout | null = null;
    function updateStatus(): void {
      if (statusTimer) return;
      statusTimer = setTimeout(() => {
        statusTimer = null;
        node.status(dlqStatus({ counters: handler.counters, writer: writer?.stats(), state, problem }, t) as any);
      }, 250);
    }
    function clearSpoolFull(): void {
      if (problem !== t('dlq.status.spool-full')) return;
      problem = undefined;
      updateStatus();
    }
    handler.onChange = updateStatus;
    updateStatus();

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      metrics.received++;
      const m = msg as any;
      if (m.error?.source?.id === node.id) {
        // This node's own failure came back through a Catch node: it was reported once already.
        node.warn(t('dlq.errors.own-failure', { error: String(m.error.message) }));
        done();
        return;
      }
      // An event batch is filed event by event: each dead letter (and each retry) stands alone.
      const parts = isEventBatch(m) ? splitBatch(m) : [m];
      let left = parts.length;
      let firstError: Error | undefined;
      const partDone = (err?: Error): void => {
        if (err && !firstError) firstError = err;
        if (--left === 0) done(firstError);
      };
      if (parts.length > 1) metrics.received += parts.length - 1;
      for (const part of parts) {
        handler.process(part, {
          send: (out) => send(out as any),
          done: (err?: Error) => {
            if (err instanceof SpoolFullError) { problem = t('dlq.status.spool-full'); updateStatus(); }
            else if (!err && (part as any).dlq?.storedIn === 'kafka') clearSpoolFull();
            partDone(err);
          },
          settled: (out) => deliveryTracker.settle(out, 'dead-lettered'),
        });
      }
      if (parts.length === 0) done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      (async () => {
        await ready.catch(() => undefined);
        // Waiting retries become dead letters; then Kafka gets a last chance before the spool closes.
        await handler.close(8000);
        await writer?.close();
        if (broker && handle) await broker.release(node as any, 2000);
        await handler.close(2000);
        const left = (spool as DeadLetterSpool | null)?.depth ?? 0;
        if (removed && left > 0) node.warn(t('dlq.errors.removed-with-spool', { count: left, dir: spoolDir }));
        await spool?.close(1000);
      })().catch((err: Error) => node.warn(err.message)).finally(() => {
        releaseNode(node.id, removed);
        if (statusTimer) clearTimeout(statusTimer);
        statusTimer = null;
        done();
      });
    });
  }

  RED.nodes.registerType('dlq', DlqNode);
};
