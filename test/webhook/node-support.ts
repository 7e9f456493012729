// Node-RED test helper wiring for genesys-webhook-in: real HTTP to helper.url() reaches RED.httpNode.
import * as http from 'node:http';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';

helper.init(require.resolve('node-red'));
export { helper };

const webhookModule = require('../../nodes/genesys-webhook-in/genesys-webhook-in');
let httpNode: any = null;

/** The node's init function, capturing this load's RED.httpNode (the helper creates a new one per load). */
export function webhookInit(RED: any): void {
  httpNode = RED.httpNode;
  webhookModule(RED);
}

/** Terminal test node: settles each message like kafka-out would ('stored'), or never when mode is 'drop'. */
export function settleInit(RED: any): void {
  function TestSettle(this: any, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: any, send: any, done: () => void) => {
      if (config.mode !== 'drop') deliveryTracker.settle(msg, 'stored');
      done();
    });
  }
  RED.nodes.registerType('test-settle', TestSettle);
}

/** Starts the helper's server and routes its requests into the current RED.httpNode. */
export async function startServer(): Promise<void> {
  await helper.startServer();
  (helper as any)._app.use((req: any, res: any, next: any) => (httpNode ? httpNode(req, res, next) : next()));
}

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** POSTs with node:http (streams, exact headers); body may be a Buffer, a string or a chunk generator. */
export function post(url: string, body: Buffer | string | (() => Iterable<Buffer>), headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (err) => (req.destroyed && (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
    if (typeof body === 'function') {
      const it = body()[Symbol.iterator]();
      const pump = () => {
        for (let n = it.next(); !n.done; n = it.next()) {
          if (req.destroyed) return;
          if (!req.write(n.value)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      pump();
    } else req.end(body);
  });
}

export function jsonHeaders(bearer?: string): Record<string, string> {
  return { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
}

export const tab = { id: 'tab1', type: 'tab', label: 'webhook tests' };
