// Per-node counters as plain numbers: a node adds to them on its hot path (`m.received++`, no
// allocation, no label hashing at 10k events/s) and the registry turns them into Prometheus
// series only when scraped. Gauges come from probes the node registers, read at scrape time.

/** The counters every node may use (which ones a node shows from the start: see `declare`). */
export const COUNTERS = [
  'received', 'sent', 'failed', 'duplicates', 'kafkaAcks', 'kafkaErrors',
  'tokenRefreshes', 'tokenFailures', 'rateLimited', 'dlqRetries',
] as const;
export type CounterName = (typeof COUNTERS)[number];

/** Counters split by one more label (the reason). */
export const REASON_COUNTERS = ['deadLetters', 'reconnects'] as const;
export type ReasonCounterName = (typeof REASON_COUNTERS)[number];

/** What a probe reports at scrape time; absent fields show no series. */
export interface GaugeValues {
  /** Events taken and not finished yet (e.g. records waiting for the Kafka ack). */
  inFlight?: number;
  /** Events waiting for room in a full queue (backpressure). */
  queued?: number;
  /** Dead letters waiting in the local spool for Kafka. */
  spoolDepth?: number;
}
export type Probe = () => GaugeValues | void;

/** Identity of a Node-RED node (the labels node_type, node_id, node_name). */
export interface NodeRef { id: string; type: string; name?: string }

export type NodeLabels = { node_type: string; node_id: string; node_name: string };

export class NodeMetrics implements Record<CounterName, number> {
  received = 0;
  sent = 0;
  failed = 0;
  duplicates = 0;
  kafkaAcks = 0;
  kafkaErrors = 0;
  tokenRefreshes = 0;
  tokenFailures = 0;
  rateLimited = 0;
  dlqRetries = 0;
  readonly deadLetters = new Map<string, number>();
  readonly reconnects = new Map<string, number>();
  /** Counters shown at 0 before their first event (so rate() works from the start). */
  readonly declared = new Set<CounterName>();
  readonly probes = new Set<Probe>();
  labels: NodeLabels;

  constructor(node: NodeRef) {
    this.labels = labelsOf(node);
  }

  deadLetter(reason: string, n = 1): void { add(this.deadLetters, reason, n); }
  reconnect(reason: string, n = 1): void { add(this.reconnects, reason, n); }

  /**
   * Registers a probe read at every scrape (gauges, or `grow` calls for a library's own totals)
   * and once more when the node closes. Returns a function that removes it.
   */
  probe(fn: Probe): () => void {
    this.probes.add(fn);
    return () => { this.probes.delete(fn); };
  }
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

export function labelsOf(node: NodeRef): NodeLabels {
  return { node_type: String(node.type), node_id: String(node.id), node_name: node.name ? String(node.name) : '' };
}

/**
 * For running totals a library keeps itself (DlqHandler.counters, ChannelManager.stats, receiver
 * stats): returns a function that, given the current totals, adds their growth since the last call.
 * One per library object, so a redeployed node's fresh library starts from 0 without a double count.
 */
export function growth(add: (key: string, n: number) => void): (totals: Record<string, number | undefined>) => void {
  const seen = new Map<string, number>();
  return (totals) => {
    for (const key of Object.keys(totals)) {
      const now = totals[key] ?? 0;
      const delta = now - (seen.get(key) ?? 0);
      if (delta > 0) add(key, delta);
      seen.set(key, now);
    }
  };
}
