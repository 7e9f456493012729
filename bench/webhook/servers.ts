// The benchmark's server process: every target the load generator compares, in one process, one at a time under load.
//   node       genesys-webhook-in ("on receipt") on RED.httpNode of a real Node-RED (node-red module API, editor on /)
//   nocache    the same with the token cache off (every request pays the HMAC)
//   dedicated  genesys-webhook-in on its own node:http port
//   stock      http in → function (jsonwebtoken.verify) → http response, what a user would build
//   express    a bare Express 4 route reading and parsing the body (what RED.httpNode is)
//   plain      plain node:http reading the body
//   kafka      genesys-webhook-in ("after delivery") → kafka-out, when KAFKA_BROKERS is set
// Prints one line "READY {json}" with the ports, then serves until stdin closes or SIGTERM.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../harness/kafka';
import { startNodeRed } from '../../test/webhook/real-node-red';

const SECRET = process.env.BENCH_SECRET || 'bench-secret-0123456789abcdef0123456789';
const AUD = 'your-ingestion-service';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function readBody(req: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

const STOCK_FUNCTION = `
const jwt = global.get('jwt');
try {
  const h = msg.req.headers.authorization || '';
  jwt.verify(h.slice(7), global.get('secret'), { algorithms: ['HS256'], issuer: 'genesys-cloud', audience: '${AUD}' });
  msg.statusCode = 200;
  msg.payload = { accepted: Array.isArray(msg.payload) ? msg.payload.length : 1 };
} catch (e) {
  msg.statusCode = 401;
  msg.payload = { error: 'unauthorized' };
}
return msg;`;

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS || '';
  const dedicatedPort = await freePort();
  const webhook = (id: string, p: string, extra: Record<string, unknown> = {}) => ({
    id, type: 'genesys-webhook-in', z: 'tab', path: p, ack: 'receipt', secretSource: 'env', secretEnv: 'BENCH_SECRET',
    issuer: 'genesys-cloud', audience: AUD, clockTolerance: 30, tokenCache: true, maxBodyKb: 1024, wires: [['sink']], ...extra,
  });
  const flows: any[] = [
    { id: 'tab', type: 'tab', label: 'bench' },
    // Messages go somewhere: a function that drops them (one runtime dispatch per event, as in a real flow).
    { id: 'sink', type: 'function', z: 'tab', func: 'return null;', outputs: 1, wires: [] },
    webhook('wh-node', '/node'),
    webhook('wh-nocache', '/nocache', { tokenCache: false }),
    webhook('wh-dedicated', '/dedicated', { listener: 'dedicated', port: dedicatedPort, host: '127.0.0.1' }),
    { id: 'stock-in', type: 'http in', z: 'tab', url: '/stock', method: 'post', upload: false, wires: [['stock-fn']] },
    { id: 'stock-fn', type: 'function', z: 'tab', func: STOCK_FUNCTION, outputs: 1, wires: [['stock-out']] },
    { id: 'stock-out', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
  const types = ['genesys-webhook-in'];
  if (brokers) {
    types.push('kafka-broker', 'kafka-out');
    flows.push(
      { id: 'broker', type: 'kafka-broker', name: 'bench', brokers, clientId: 'webhook-bench', connectionTimeout: 3000, requestTimeout: 30000, autoCreateTopics: true, topicPartitions: 3, topicReplicationFactor: 1 },
      { id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic: process.env.BENCH_TOPIC || `webhook-bench-${process.pid}`, keyProperty: 'key',
        headersFromMsg: false, lingerMs: 5, maxBatchRecords: 1000, maxQueued: 20000, retries: 10, deliveryTimeout: 60, flushTimeout: 5, wires: [] },
      webhook('wh-kafka', '/kafka', { ack: 'delivery', ackTimeout: 10, maxUnsettled: 20000, wires: [['out']] }),
    );
  }
  // Node-RED as users run it: editor and httpNode on the same root (red.js layout).
  const nr = await startNodeRed(flows, { functionGlobalContext: { jwt: require('jsonwebtoken'), secret: SECRET } }, types);
  const nodeRedPort = nr.port;
  const express = require('express');
  const bare = express();
  bare.post('/express', (req: http.IncomingMessage, res: any) => readBody(req, (b) => {
    const v = JSON.parse(b.toString('utf8'));
    res.json({ accepted: Array.isArray(v) ? v.length : 1 });
  }));
  const expressServer = http.createServer(bare);
  expressServer.keepAliveTimeout = 65000;
  const expressPort = await listen(expressServer);

  const plainServer = http.createServer((req, res) => readBody(req, () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 14 }).end('{"accepted":1}');
  }));
  plainServer.keepAliveTimeout = 65000;
  const plainPort = await listen(plainServer);

  const stop = async () => {
    await nr.stop();
    for (const s of [expressServer, plainServer]) s.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', () => { void stop(); });
  process.stdin.on('end', () => { void stop(); });
  process.stdin.resume();
  console.log('READY ' + JSON.stringify({ nodeRedPort, dedicatedPort, expressPort, plainPort, kafka: !!brokers }));
}

main().catch((err) => { console.error(err); process.exit(1); });
