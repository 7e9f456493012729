// The flow under test: flows/complete-pipeline.json as shipped (push webhook + notification channels +
// realtime analytics + details query → Redis dedup → normalize → kafka-out, DLQ with spool), found by
// node type and topic rather than by id, with only what a fault test must change:
//   - topic names get a per-run prefix (a scenario may use the shared Kafka),
//   - timings short enough for a test (details-query interval/settle, registration retry budget),
//   - bounds a scenario needs to reach them (queue sizes, unsettled limit),
//   - for dedup fail-closed: its third output gets a dlq whose retry output leads back to dedup.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FlowNode = Record<string, any> & { id: string; type: string };

export const PIPELINE_FILE = path.resolve(__dirname, '..', '..', '..', 'flows', 'complete-pipeline.json');

/** The example's topic names; a scenario's topics are `${prefix}${name}`. */
export const TOPICS = { interactions: 'genesys.interactions', raw: 'genesys.raw', analytics: 'genesys.analytics', dlq: 'genesys.dlq' } as const;

export interface PipelineOverrides {
  topicPrefix: string;
  dedup?: { failMode?: 'open' | 'closed'; commandTimeout?: number };
  webhook?: { maxUnsettled?: number; ackTimeout?: number; batchSize?: number; maxRetries?: number; initialDelayMs?: number; maxDelayMs?: number; backoffMultiplier?: number };
  details?: { interval?: number; settle?: number; lookback?: number };
  kafkaOut?: { maxQueued?: number; retries?: number; deliveryTimeout?: number };
  dlq?: { spoolAfterMs?: number; retries?: number; retryBaseMs?: number; retryMaxMs?: number };
  broker?: { requestTimeout?: number; connectionTimeout?: number };
}

export interface PipelineFlow {
  flow: FlowNode[];
  topics: Record<keyof typeof TOPICS, string>;
  /** Ids of the dlq nodes (their spools live in <userDir>/genesys-dlq-spool/<id>). */
  dlqIds: string[];
}

function only(flow: FlowNode[], what: string, pred: (n: FlowNode) => boolean): FlowNode {
  const found = flow.filter(pred);
  if (found.length !== 1) throw new Error(`${path.basename(PIPELINE_FILE)}: expected one ${what}, found ${found.length}`);
  return found[0];
}

function set(node: FlowNode, values: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined) node[k] = v;
}

export function pipelineFlow(o: PipelineOverrides): PipelineFlow {
  const flow = JSON.parse(fs.readFileSync(PIPELINE_FILE, 'utf8')) as FlowNode[];
  const webhook = only(flow, 'genesys-webhook-in', (n) => n.type === 'genesys-webhook-in');
  only(flow, 'genesys-ws-in in channels mode', (n) => n.type === 'genesys-ws-in' && n.mode === 'channels');
  only(flow, 'genesys-ws-in in analytics mode', (n) => n.type === 'genesys-ws-in' && n.mode === 'analytics');
  const details = only(flow, 'genesys-eventstream-poll (details query)', (n) => n.type === 'genesys-eventstream-poll' && n.mode === 'details-query');
  const dedup = only(flow, 'dedup', (n) => n.type === 'dedup');
  const broker = only(flow, 'kafka-broker', (n) => n.type === 'kafka-broker');
  const outs = flow.filter((n) => n.type === 'kafka-out');
  const dlqs = flow.filter((n) => n.type === 'dlq');
  for (const name of Object.values(TOPICS)) {
    if (!outs.some((n) => n.topic === name) && !dlqs.some((n) => n.topic === name)) throw new Error(`${path.basename(PIPELINE_FILE)}: no node writes ${name}`);
  }
  const topics = Object.fromEntries(Object.entries(TOPICS).map(([k, v]) => [k, o.topicPrefix + v])) as PipelineFlow['topics'];
  for (const n of [...outs, ...dlqs]) n.topic = o.topicPrefix + n.topic;

  set(webhook, o.webhook);
  set(details, o.details);
  set(dedup, o.dedup);
  set(broker, o.broker);
  for (const n of outs) set(n, o.kafkaOut);
  for (const n of dlqs) set(n, o.dlq);

  if (o.dedup?.failMode === 'closed') {
    // Fail-closed sends "Redis unavailable" (retryable) to output 3. The example wires output 3 to
    // the dlq whose retry output leads to kafka-out: a retried event would skip normalize. A dlq of
    // its own sends retries back through dedup.
    const dlq: FlowNode = { ...dlqs[0], id: 'faults-dlq-dedup', name: 'dedup failures', y: (dlqs[0].y ?? 0) + 120, wires: [[dedup.id], dlqs[0].wires?.[1] ?? []] };
    dedup.wires = [dedup.wires[0], dedup.wires[1] ?? [], [dlq.id]];
    flow.push(dlq);
    dlqs.push(dlq);
  }
  if (process.env.FAULTS_EXPERIMENT_ANALYTICS_DEDUP) {
    const an = flow.find((n) => n.type === 'genesys-ws-in' && n.mode === 'analytics')!;
    const d: FlowNode = { ...dedup, id: 'exp-analytics-dedup', keyPrefix: 'genesys:dedup:analytics:', wires: [an.wires[0], [], dedup.wires[2]] };
    an.wires = [[d.id]];
    flow.push(d);
  }
  return { flow, topics, dlqIds: dlqs.map((n) => n.id) };
}
