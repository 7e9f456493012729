// Starts a real Node-RED (node-red module API, editor included unless disabled) with this package's
// nodes loaded from their TypeScript sources; used by the webhook tests (as a child process) and the bench.
//   node -r ts-node/register/transpile-only test/webhook/real-node-red.ts
// env NR_FLOWS (JSON array), NR_SETTINGS (JSON object), NR_MIDDLEWARE=1 (an httpNodeMiddleware that
// counts requests in header x-middleware-seen). Prints "READY <port>"; stops when stdin closes.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';

const root = path.resolve(__dirname, '../..');

/** Our node types as a Node-RED nodesDir: a .js per type that loads the TypeScript source, plus html and messages. */
export function nodesDir(tmp: string, types: string[]): string {
  const dir = path.join(tmp, 'nodes');
  fs.mkdirSync(path.join(dir, 'locales', 'en-US'), { recursive: true });
  for (const t of types) {
    fs.writeFileSync(path.join(dir, `${t}.js`), `module.exports = require(${JSON.stringify(path.join(root, 'nodes', t, `${t}.ts`))});\n`);
    fs.copyFileSync(path.join(root, 'nodes', t, `${t}.html`), path.join(dir, `${t}.html`));
    const messages = path.join(root, 'locales', 'en-US', `${t}.json`);
    if (fs.existsSync(messages)) fs.copyFileSync(messages, path.join(dir, 'locales', 'en-US', `${t}.json`));
  }
  return dir;
}

export interface RealNodeRed { port: number; server: http.Server; stop(): Promise<void> }

/** Node-RED as red.js sets it up: one Express root app, the editor and httpNode mounted in it. */
export async function startNodeRed(flows: unknown[], settings: Record<string, unknown>, types: string[]): Promise<RealNodeRed> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-nr-'));
  fs.writeFileSync(path.join(tmp, 'flows.json'), JSON.stringify(flows));
  const RED = require('node-red');
  const express = require('express');
  const app = express();
  const server = http.createServer(app);
  server.keepAliveTimeout = 65000;
  const all: Record<string, any> = {
    userDir: tmp, flowFile: 'flows.json', httpAdminRoot: '/', httpNodeRoot: '/', credentialSecret: false,
    nodesDir: [nodesDir(tmp, types)], logging: { console: { level: 'warn', metrics: false, audit: false } },
    externalModules: { autoInstall: false }, editorTheme: { tours: false }, ...settings,
  };
  RED.init(server, all);
  if (all.httpAdminRoot !== false) app.use(all.httpAdminRoot, RED.httpAdmin);
  if (all.httpNodeRoot !== false) app.use(all.httpNodeRoot, RED.httpNode);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  await RED.start();
  return {
    port, server,
    stop: async () => {
      await RED.stop().catch(() => undefined);
      server.closeAllConnections();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  const flows = JSON.parse(process.env.NR_FLOWS || '[]');
  const settings = JSON.parse(process.env.NR_SETTINGS || '{}');
  settings.functionGlobalContext = { tracker: deliveryTracker };
  if (process.env.NR_MIDDLEWARE) {
    let seen = 0;
    settings.httpNodeMiddleware = (_req: unknown, res: http.ServerResponse, next: () => void) => { res.setHeader('x-middleware-seen', String(++seen)); next(); };
  }
  startNodeRed(flows, settings, ['genesys-webhook-in']).then((nr) => {
    process.stdin.on('end', () => { void nr.stop().then(() => process.exit(0)); });
    process.stdin.resume();
    console.log(`READY ${nr.port}`);
  }, (err) => { console.error(err); process.exit(1); });
}
