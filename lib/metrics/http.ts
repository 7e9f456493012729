// The two endpoints as plain node:http handlers (express passes its req/res, which extend them):
// GET metrics → Prometheus text; GET health → 200 {status:'ready',components} or 503. And an
// optional listener of its own (no auth) for scrapers that cannot log in to the Node-RED admin API.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { health, metricsContentType, metricsText } from './registry';

export function serveMetrics(_req: http.IncomingMessage, res: http.ServerResponse): void {
  metricsText().then((text) => {
    res.statusCode = 200;
    res.setHeader('Content-Type', metricsContentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  }, (err: Error) => {
    res.statusCode = 500;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`metrics failed: ${err.message}\n`);
  });
}

export function serveHealth(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const report = health.report();
  res.statusCode = report.status === 'ready' ? 200 : 503;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(report));
}

export interface MetricsListener {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/**
 * A dedicated listener: GET /metrics and /health (and the admin paths /genesys-kafka/metrics,
 * /genesys-kafka/health), everything else 404. No authentication: bind it where only scrapers reach.
 */
export function listenMetrics(port: number, host?: string): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0].replace(/^\/genesys-kafka(?=\/)/, '');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      serveMetrics(req, res);
    } else if (path === '/health') {
      serveHealth(req, res);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('GET /metrics or /health\n');
    }
  });
  server.keepAliveTimeout = 65_000; // longer than common scrape intervals
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      // A metrics listener alone must not keep a stopping process alive.
      server.unref();
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
      });
    });
  });
}
