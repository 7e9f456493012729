// The process-wide Prometheus registry of this package (prom-client). Nodes keep plain counters in
// a NodeMetrics (node-metrics.ts); a scrape copies their growth into prom-client's counters, reads
// the probes into gauges, and renders the text format. Everything sits on a global symbol so that
// two copies of this module (dist and sources in one process, a bundled copy) share one registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { deliveryTracker } from '../ingest/delivery-tracker';
import { HealthRegistry } from './health';
import { COUNTERS, REASON_COUNTERS, NodeMetrics, labelsOf, type CounterName, type GaugeValues, type NodeLabels, type NodeRef, type ReasonCounterName } from './node-metrics';

const PREFIX = 'genesys_kafka_';
const NODE_LABELS = ['node_type', 'node_id', 'node_name'] as const;

const COUNTER_HELP: Record<CounterName, [string, string]> = {
  received: ['events_received_total', 'Events that entered the node (sources: events received from Genesys Cloud)'],
  sent: ['events_sent_total', 'Messages the node passed on (kafka-out: after the broker ack)'],
  failed: ['events_failed_total', 'Events the node failed (done(err) or its error output)'],
  duplicates: ['duplicates_total', 'Duplicate events recognised by dedup'],
  kafkaAcks: ['records_acked_total', 'Records acknowledged by Kafka'],
  kafkaErrors: ['record_errors_total', 'Records Kafka did not take after the retry limit'],
  tokenRefreshes: ['token_refreshes_total', 'OAuth access tokens obtained from the Genesys login host'],
  tokenFailures: ['token_failures_total', 'Failed OAuth token requests'],
  rateLimited: ['rate_limited_total', 'HTTP 429 answers received from Genesys Cloud'],
  dlqRetries: ['dlq_retries_total', 'Failed events the dlq node sent back for another attempt'],
};
const REASON_HELP: Record<ReasonCounterName, [string, string]> = {
  deadLetters: ['dead_letters_total', 'Events written to the dead-letter topic (or spool), by failure reason'],
  reconnects: ['reconnects_total', 'Connections re-established (Kafka producer, notification channels, sockets), by reason'],
};
const GAUGE_HELP: Record<keyof GaugeValues, [string, string]> = {
  inFlight: ['in_flight', 'Events the node took and has not finished (e.g. records waiting for the Kafka ack)'],
  queued: ['queued', 'Events waiting for room in a full queue (backpressure)'],
  spoolDepth: ['dlq_spool_depth', 'Dead letters waiting in the local spool until Kafka takes them'],
};
/** Webhook answers range from a few ms (on receipt) to the ack timeout (after delivery). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What has already been copied into prom-client for one node. */
interface Exported {
  counters: Partial<Record<CounterName, number>>;
  reasons: Record<ReasonCounterName, Map<string, { labels: Record<string, string>; value: number }>>;
  latency: Map<number, Record<string, string>>;
}

class MetricsState {
  readonly registry = new Registry();
  readonly health = new HealthRegistry();
  readonly nodes = new Map<string, NodeMetrics>();
  private readonly exported = new WeakMap<NodeMetrics, Exported>();
  private readonly counters = {} as Record<CounterName, Counter<string>>;
  private readonly reasonCounters = {} as Record<ReasonCounterName, Counter<string>>;
  private readonly gauges = {} as Record<keyof GaugeValues, Gauge<string>>;
  private readonly componentReady: Gauge<string>;
  private readonly unsettled: Gauge<string>;
  readonly ackLatency: Histogram<string>;

  constructor() {
    const registers = [this.registry];
    for (const name of COUNTERS) {
      const [metric, help] = COUNTER_HELP[name];
      this.counters[name] = new Counter({ name: PREFIX + metric, help, labelNames: NODE_LABELS, registers });
    }
    for (const name of REASON_COUNTERS) {
      const [metric, help] = REASON_HELP[name];
      this.reasonCounters[name] = new Counter({ name: PREFIX + metric, help, labelNames: [...NODE_LABELS, 'reason'], registers });
    }
    for (const name of Object.keys(GAUGE_HELP) as Array<keyof GaugeValues>) {
      const [metric, help] = GAUGE_HELP[name];
      this.gauges[name] = new Gauge({ name: PREFIX + metric, help, labelNames: NODE_LABELS, registers });
    }
    this.ackLatency = new Histogram({
      name: `${PREFIX}ack_latency_seconds`, help: 'Webhook request received to answer sent (after delivery: includes the Kafka ack), by HTTP status',
      labelNames: [...NODE_LABELS, 'code'], buckets: LATENCY_BUCKETS, registers,
    });
    this.componentReady = new Gauge({ name: `${PREFIX}component_ready`, help: '1 when the component is connected (the health endpoint\'s view), else 0', labelNames: NODE_LABELS, registers });
    this.unsettled = new Gauge({ name: `${PREFIX}unsettled_deliveries`, help: 'Events sources are waiting on before acknowledging them (after-delivery acks)', registers });
    collectDefaultMetrics({ register: this.registry });
  }

  forNode(node: NodeRef, declare: CounterName[]): NodeMetrics {
    let m = this.nodes.get(node.id);
    if (!m) {
      m = new NodeMetrics(node);
      this.nodes.set(node.id, m);
    } else {
      const labels = labelsOf(node);
      if (labels.node_name !== m.labels.node_name || labels.node_type !== m.labels.node_type) {
        // Renamed: the totals move to series with the new labels.
        this.removeSeries(m);
        m.labels = labels;
      }
    }
    for (const c of declare) m.declared.add(c);
    return m;
  }

  /** The node closed: its probes are read one last time and dropped; a removed node's series go. */
  release(nodeId: string, removed: boolean): void {
    const m = this.nodes.get(nodeId);
    if (!m) return;
    for (const probe of m.probes) runProbe(probe);
    m.probes.clear();
    if (removed) {
      this.removeSeries(m);
      this.nodes.delete(nodeId);
    }
  }

  observeAckLatency(m: NodeMetrics, seconds: number, code: number): void {
    const ex = this.exportedOf(m);
    let labels = ex.latency.get(code);
    if (!labels) ex.latency.set(code, labels = { ...m.labels, code: String(code) });
    this.ackLatency.observe(labels, seconds);
  }

  /** Copies the nodes' counters and probes into prom-client, then renders the exposition text. */
  async scrape(): Promise<string> {
    for (const g of Object.values(this.gauges)) g.reset();
    this.componentReady.reset();
    for (const m of this.nodes.values()) this.sync(m);
    for (const c of this.health.checkAll()) {
      this.componentReady.set({ node_type: c.type, node_id: c.id, node_name: c.name }, c.ready ? 1 : 0);
    }
    this.unsettled.set(deliveryTracker.unsettled);
    return this.registry.metrics();
  }

  private sync(m: NodeMetrics): void {
    const gauges: GaugeValues = {};
    for (const probe of m.probes) {
      const v = runProbe(probe);
      if (!v) continue;
      for (const k of Object.keys(v) as Array<keyof GaugeValues>) {
        if (typeof v[k] === 'number' && Number.isFinite(v[k])) gauges[k] = (gauges[k] ?? 0) + v[k]!;
      }
    }
    for (const k of Object.keys(gauges) as Array<keyof GaugeValues>) this.gauges[k].set(m.labels, gauges[k]!);
    const ex = this.exportedOf(m);
    for (const name of COUNTERS) {
      const value = m[name];
      const before = ex.counters[name];
      if (before === undefined ? value > 0 || m.declared.has(name) : value > before) {
        this.counters[name].inc(m.labels, value - (before ?? 0));
        ex.counters[name] = value;
      }
    }
    for (const name of REASON_COUNTERS) {
      const seen = ex.reasons[name];
      for (const [reason, value] of m[name]) {
        let s = seen.get(reason);
        if (!s) seen.set(reason, s = { labels: { ...m.labels, reason }, value: 0 });
        if (value > s.value) {
          this.reasonCounters[name].inc(s.labels, value - s.value);
          s.value = value;
        }
      }
    }
  }

  private exportedOf(m: NodeMetrics): Exported {
    let ex = this.exported.get(m);
    if (!ex) {
      ex = { counters: {}, reasons: { deadLetters: new Map(), reconnects: new Map() }, latency: new Map() };
      this.exported.set(m, ex);
    }
    return ex;
  }

  private removeSeries(m: NodeMetrics): void {
    const ex = this.exported.get(m);
    if (!ex) return;
    const labels: NodeLabels = m.labels;
    for (const name of COUNTERS) if (ex.counters[name] !== undefined) this.counters[name].remove(labels);
    for (const name of REASON_COUNTERS) for (const s of ex.reasons[name].values()) this.reasonCounters[name].remove(s.labels);
    for (const l of ex.latency.values()) this.ackLatency.remove(l);
    this.exported.delete(m);
  }
}

function runProbe(probe: () => GaugeValues | void): GaugeValues | void {
  try {
    return probe();
  } catch {
    return undefined; // a probe of a half-closed node must not break the scrape
  }
}

const STATE_KEY = Symbol.for('node-red-contrib-genesys-cloud-kafka.metrics');
const state: MetricsState = ((globalThis as any)[STATE_KEY] ??= new MetricsState());

/** The process-wide health registry. */
export const health: HealthRegistry = state.health;

/**
 * The counters of one node, shared by its redeployed instances (same id), so totals keep growing
 * across deploys. `declare` lists the counters shown at 0 before their first event.
 * On close, call releaseNode(node.id, removed).
 */
export function nodeMetrics(node: NodeRef, declare: CounterName[] = []): NodeMetrics {
  return state.forNode(node, declare);
}

/** A node closed: reads its probes one last time, drops them, and removes its series when the node was deleted. */
export function releaseNode(nodeId: string, removed: boolean): void {
  state.release(nodeId, removed);
}

/** One webhook request answered after `seconds` with HTTP `code`. */
export function observeAckLatency(m: NodeMetrics, seconds: number, code: number): void {
  state.observeAckLatency(m, seconds, code);
}

/** The Prometheus text exposition of every series. */
export function metricsText(): Promise<string> {
  return state.scrape();
}

export const metricsContentType: string = state.registry.contentType;
