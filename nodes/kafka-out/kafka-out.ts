// kafka-out: one message → one Kafka record through the broker's shared idempotent producer.
// done() only after the broker's ack; done(err) after the retry limit, so a Catch or dlq node
// takes the message; the single output emits the message after the ack with msg.kafka set.
// An event batch (lib/events/batch.ts) becomes one record per event, sent together; done() once
// all are acknowledged, or done(err) with msg narrowed to the events that failed.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import type { KafkaBrokerApi, ProducerHandle } from '../../lib/kafka/producer';
import { encodeHeaders, encodeValue, resolveKey, resolveTopic, toRecord, DEFAULT_KEY_PROPERTY, type RecordMappingOptions } from '../../lib/kafka/record-mapping';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';
import { producerStatus } from '../../lib/kafka/status';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { eventView, isEventBatch, subsetOf, type EventBatchMessage } from '../../lib/events/batch';
import { nodeMetrics, releaseNode } from '../../lib/metrics';

interface KafkaOutDef extends NodeDef {
  broker: string;
  topic: string;
  topicFromMsg: boolean;
  keyProperty: string;
  headersFromMsg: boolean;
  compression: string;
  lingerMs: string | number;
  maxBatchRecords: string | number;
  maxQueued: string | number;
  retries: string | number;
  deliveryTimeout: string | number;
  flushTimeout: string | number;
}

const num = (v: unknown, fallback: number, min = 0): number => {
  const n = Number(v);
  return v === '' || v === undefined || v === null || !Number.isFinite(n) || n < min ? fallback : n;
};

export = function (RED: NodeAPI): void {
  function KafkaOutNode(this: Node, config: KafkaOutDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const t = (key: string): string => RED._(key);
    const metrics = nodeMetrics(node, ['received', 'sent', 'failed', 'kafkaAcks', 'kafkaErrors']);
    const broker = RED.nodes.getNode(config.broker) as unknown as KafkaBrokerApi | null;
    if (!broker || typeof broker.acquire !== 'function') {
      node.status({ fill: 'red', shape: 'ring', text: t('kafka-out.status.no-broker') });
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => { metrics.received++; metrics.failed++; done(new Error(t('kafka-out.errors.no-broker'))); });
      node.on('close', (removed: boolean, done: () => void) => { releaseNode(node.id, removed); done(); });
      return;
    }
    const mapping: RecordMappingOptions = {
      topic: String(config.topic || '').trim(),
      topicFromMsg: config.topicFromMsg === true,
      keyProperty: String(config.keyProperty || DEFAULT_KEY_PROPERTY).replace(/^msg\./, ''),
      headersFromMsg: config.headersFromMsg !== false,
    };
    // Close must finish inside Node-RED's 15 s close timeout.
    const flushTimeoutMs = Math.min(14_000, num(config.flushTimeout, 10, 0) * 1000);
    const handle: ProducerHandle = broker.acquire(node, {
      ownStatus: true,
      compression: config.compression || 'none',
      lingerMs: num(config.lingerMs, 5),
      maxBatchRecords: num(config.maxBatchRecords, 1000, 1),
      maxQueued: num(config.maxQueued, 10_000, 1),
      retries: num(config.retries, 10),
      deliveryTimeoutMs: num(config.deliveryTimeout, 120, 0) * 1000,
    });

    let lastFailure: string | undefined;
    let shown = '';
    const refresh = (): void => {
      const badge = producerStatus(handle.status(), lastFailure, t);
      const key = `${badge.fill}|${badge.shape}|${badge.text}`;
      if (key !== shown) { shown = key; node.status(badge); }
    };
    handle.on('state', refresh);
    metrics.probe(() => { const s = handle.status(); return { inFlight: s.queued, queued: s.waiting }; });
    const ticker = setInterval(refresh, 1000); // the rate moves without state changes
    refresh();

    const getProperty = (m: object, path: string): unknown => RED.util.getMessageProperty(m as NodeMessageInFlow, path);
    const keysFromBatch = mapping.keyProperty === DEFAULT_KEY_PROPERTY;
    const outputWired = (): boolean => ((node as any).wires?.[0]?.length ?? 0) > 0;

    const inputBatch = (msg: EventBatchMessage, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void): void => {
      const n = msg.payload.length;
      metrics.received += n - 1; // events, not messages
      // Topic and headers are the batch's; each event has its key: msg.keys (what "key" means for a
      // batch) or the configured property read from the event's view, else its conversation id.
      let shared: { topic: string; headers: OutgoingRecord['headers'] } | undefined;
      let sharedError: unknown;
      try { shared = { topic: resolveTopic(msg as { topic?: unknown }, mapping), headers: mapping.headersFromMsg ? encodeHeaders(msg.headers) : undefined }; } catch (err) { sharedError = err; }
      const sent = msg.payload.map((event, i) => {
        try {
          if (!shared) throw sharedError;
          const key = (keysFromBatch ? msg.keys?.[i] : undefined) ?? resolveKey(eventView(msg, i), mapping.keyProperty, getProperty);
          return handle.send({ topic: shared.topic, key, value: encodeValue(event), headers: shared.headers });
        } catch (err) {
          return Promise.reject(err);
        }
      });
      void Promise.allSettled(sent).then((results) => {
        const stored: number[] = [];
        const failed: number[] = [];
        results.forEach((r, i) => (r.status === 'fulfilled' ? stored : failed).push(i));
        metrics.kafkaAcks += stored.length;
        metrics.sent += stored.length;
        if (failed.length === 0) {
          lastFailure = undefined;
          deliveryTracker.settle(msg, 'stored');
          msg.kafka = results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
          if (outputWired()) send(msg as any);
          done();
          return;
        }
        if (stored.length) deliveryTracker.settle(subsetOf(msg, stored), 'stored');
        const err = (results[failed[0]] as PromiseRejectedResult).reason as Error & { topic?: string; key?: string; retriable?: boolean };
        lastFailure = err.message;
        metrics.kafkaErrors += failed.length;
        metrics.failed += failed.length;
        refresh();
        // done(err) reports this message: narrowed to the events that failed, for a dlq node to file.
        Object.assign(msg, subsetOf(msg, failed));
        msg.kafka = { topic: err.topic ?? mapping.topic, key: null, error: { name: err.name, retriable: err.retriable === true } };
        err.message = `${failed.length} of ${n} events not stored${mapping.topic ? ` in topic "${mapping.topic}"` : ''}: ${err.message}`;
        done(err);
      });
    };

    node.on('input', (msg: NodeMessageInFlow & { kafka?: unknown }, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      metrics.received++;
      if (isEventBatch(msg)) { inputBatch(msg, send, done); return; }
      let record;
      try {
        record = toRecord(msg, mapping, getProperty);
      } catch (err) {
        metrics.failed++;
        done(err as Error);
        return;
      }
      handle.send(record).then((meta) => {
        lastFailure = undefined;
        metrics.kafkaAcks++;
        metrics.sent++;
        deliveryTracker.settle(msg as { genesys?: { deliveryId?: string } }, 'stored');
        msg.kafka = meta;
        if (outputWired()) send(msg);
        done();
      }, (err: Error & { topic?: string; key?: string; retriable?: boolean }) => {
        lastFailure = err.message;
        metrics.kafkaErrors++;
        metrics.failed++;
        refresh();
        // What a dlq node needs to file it: where it was going and whether a retry may help.
        msg.kafka = { topic: record.topic, key: err.key ?? null, error: { name: err.name, retriable: err.retriable === true } };
        err.message = `topic "${record.topic}"${err.key !== undefined ? `, key "${err.key}"` : ''}: ${err.message}`;
        done(err);
      });
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(ticker);
      handle.off('state', refresh);
      broker.release(node, flushTimeoutMs).then((report) => {
        if (report.pending > 0) node.warn(RED._('kafka-out.warn.unsent', { count: report.pending, timeout: flushTimeoutMs / 1000 }));
      }, (err: Error) => node.warn(err.message)).finally(() => {
        releaseNode(node.id, removed);
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('kafka-out', KafkaOutNode as any);
};
