// genesys-kafka-metrics: a Node-RED runtime plugin (no palette node) that serves this package's
// Prometheus metrics and health on the admin API, and optionally on a port of its own:
//   GET <httpAdminRoot>/genesys-kafka/metrics   Prometheus text (permission genesys-kafka.read)
//   GET <httpAdminRoot>/genesys-kafka/health    200 {status:'ready',components} | 503
//   GENESYS_KAFKA_METRICS_PORT=9464 [GENESYS_KAFKA_METRICS_HOST=0.0.0.0]  → GET /metrics, /health, no auth
// The metrics and readiness themselves live in lib/metrics; the nodes feed them.
import type { NodeAPI } from 'node-red';
import { health, listenMetrics, serveHealth, serveMetrics, type MetricsListener } from '../../lib/metrics';

const PLUGIN = 'genesys-kafka-metrics';

/** Once per process, however often the runtime (or a test helper) calls this module. */
interface PluginState { admins: WeakSet<object>; events: WeakSet<object>; listener?: Promise<MetricsListener | null> }
const STATE_KEY = Symbol.for('node-red-contrib-genesys-cloud-kafka.metrics-plugin');
const state: PluginState = ((globalThis as any)[STATE_KEY] ??= { admins: new WeakSet(), events: new WeakSet() });

export = function (RED: NodeAPI): void {
  (RED as any).plugins?.registerPlugin?.(PLUGIN, { type: PLUGIN });

  // Admin routes: with adminAuth they need a user, token or default permission with genesys-kafka.read
  // (any "read" scope has it); without adminAuth they are open like the rest of the admin API.
  const admin = RED.httpAdmin as any;
  if (admin && typeof admin.get === 'function' && !state.admins.has(admin)) {
    state.admins.add(admin);
    const canRead = RED.auth.needsPermission('genesys-kafka.read');
    admin.get('/genesys-kafka/metrics', canRead, serveMetrics);
    admin.get('/genesys-kafka/health', canRead, serveHealth);
  }

  // Health says "starting" until the flows run, and during a deploy.
  const events = RED.events as unknown as NodeJS.EventEmitter;
  if (events && !state.events.has(events)) {
    state.events.add(events);
    health.flowsRunning = flowsLoaded(RED);
    events.on('flows:started', () => { health.flowsRunning = true; });
    events.on('flows:stopping', () => { health.flowsRunning = false; });
  }

  const port = process.env.GENESYS_KAFKA_METRICS_PORT;
  if (port && !state.listener) {
    const host = process.env.GENESYS_KAFKA_METRICS_HOST || undefined;
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      RED.log.error(`[${PLUGIN}] GENESYS_KAFKA_METRICS_PORT must be a port number, not "${port}"`);
      return;
    }
    state.listener = listenMetrics(n, host).then((l) => {
      RED.log.info(`[${PLUGIN}] metrics and health on http://${host ?? '*'}:${l.port}/metrics and /health`);
      return l;
    }, (err: Error) => {
      RED.log.error(`[${PLUGIN}] cannot listen on ${host ?? '*'}:${port}: ${err.message}`);
      return null;
    });
  }
};

/** Installed from the palette while flows already run: there will be no flows:started until the next deploy. */
function flowsLoaded(RED: NodeAPI): boolean {
  let any = false;
  try { RED.nodes.eachNode(() => { any = true; }); } catch { /* no flows loaded yet */ }
  return any;
}
