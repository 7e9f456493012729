// Metrics and health for this package: per-node Prometheus counters (cheap on the hot path),
// gauges from probes, the webhook ack latency histogram, and a readiness model. No Node-RED import:
// the nodes feed it, the genesys-kafka-metrics plugin (or listenMetrics) serves it.
//
//   const m = nodeMetrics(node, ['received', 'sent']);     // shared by redeploys of the same node id
//   m.received++;                                          // per event: a plain increment
//   m.probe(() => ({ inFlight: queue.size }));             // read at scrape time
//   const unregister = health.register(node.id, { type: node.type, name: node.name, check: () => ({ ready, detail }) });
//   on close: unregister(); releaseNode(node.id, removed);
export { nodeMetrics, releaseNode, observeAckLatency, metricsText, metricsContentType, health } from './registry';
export { growth, NodeMetrics, type CounterName, type GaugeValues, type NodeRef, type Probe } from './node-metrics';
export { HealthRegistry, type HealthCheck, type HealthComponent, type HealthReport, type ComponentReport } from './health';
export { serveMetrics, serveHealth, listenMetrics, type MetricsListener } from './http';
