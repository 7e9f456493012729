// kafka-out: one message → one Kafka record through the broker's shared idempotent producer.
// done() only after the broker's ack; done(err) after the retry limit, so a Catch or dlq node
// takes the message; the single output emits the message after the ack with msg.kafka set.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import type { KafkaBrokerApi, ProducerHandle } from '../../lib/kafka/producer';
import { toRecord, DEFAULT_KEY_PROPERTY, type RecordMappingOptions } from '../../lib/kafka/record-mapping';
import { producerStatus } from '../../lib/kafka/status';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
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

    node.on('input', (msg: NodeMessageInFlow & { kafka?: unknown }, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      metrics.received++;
      let record;
      try {
        record = toRecord(msg, mapping, (m, path) => RED.util.getMessageProperty(m as NodeMessageInFlow, path));
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
        send(msg);
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
