'use strict';
// `npm start`: the complete pipeline, headless, on this machine.
//   1. a Genesys Cloud simulator with live traffic (unless GENESYS_CLIENT_ID points at a real org),
//   2. a local Kafka broker (unless KAFKA_BROKERS is set) and Redis (unless REDIS_URL is set),
//   3. headless Node-RED with a private userDir in .run/node-red, this package linked in, and the
//      complete-pipeline example deployed; a live line of events/s into Kafka.
// Ctrl-C stops everything it started, by the PIDs it recorded.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = (p) => path.join(root, 'dist', p);
const runDir = path.join(root, '.run');
const userDir = path.join(runDir, 'node-red');
const FLOW = process.env.DEMO_FLOW || 'complete-pipeline.json';

const started = [];
let nodeRed = null;
let stopping = false;

function log(line) { process.stdout.write(`\r\x1b[K${String(line).trim()}\n`); }

async function startGenesys() {
  if (process.env.GENESYS_CLIENT_ID) {
    log(`genesys: using ${process.env.GENESYS_BASE_URL || process.env.GENESYS_REGION} (real org)`);
    return;
  }
  const { GenesysSimulator, DEFAULT_CLIENT } = require(dist('simulator/server.js'));
  const sim = new GenesysSimulator({ port: Number(process.env.SIMULATOR_PORT || 0) });
  await sim.start();
  started.push({ name: 'simulator', stop: () => sim.stop() });
  // About DEMO_RATE new conversations per second, each with several state changes.
  const { startTraffic } = require(dist('simulator/traffic.js'));
  const traffic = startTraffic(sim, { rate: Number(process.env.DEMO_RATE || 20), seed: 42 });
  started.unshift({ name: 'traffic', stop: () => traffic.stop() });
  Object.assign(process.env, {
    // The notification-channel listeners subscribe to the simulated queues and agents.
    GENESYS_QUEUE_IDS: traffic.queues.map((q) => q.id).join(','),
    GENESYS_USER_IDS: traffic.agents.map((a) => a.id).join(','),
    GENESYS_REGION: 'custom',
    GENESYS_BASE_URL: sim.baseUrl,
    GENESYS_CLIENT_ID: DEFAULT_CLIENT.id,
    GENESYS_CLIENT_SECRET: DEFAULT_CLIENT.secret,
  });
  log(`genesys: simulator at ${sim.baseUrl} (client ${DEFAULT_CLIENT.id})`);
}

async function startKafka() {
  if (process.env.KAFKA_BROKERS) { log(`kafka: using ${process.env.KAFKA_BROKERS}`); return; }
  const { KafkaServer } = require(dist('harness/kafka.js'));
  const kafka = new KafkaServer({ log });
  await kafka.start();
  started.push({ name: 'kafka', stop: () => kafka.destroy() });
  process.env.KAFKA_BROKERS = kafka.brokers;
  log(`kafka: local broker ${kafka.version} at ${kafka.brokers} (pid ${kafka.pid})`);
}

async function startRedis() {
  if (process.env.REDIS_URL) { log(`redis: using ${process.env.REDIS_URL}`); return; }
  const { RedisServer } = require(dist('harness/redis.js'));
  if (!RedisServer.available()) { log('redis: redis-server not found; dedup falls back to its memory window'); return; }
  const redis = await new RedisServer().start();
  started.push({ name: 'redis', stop: () => redis.stop() });
  process.env.REDIS_URL = redis.url;
  log(`redis: local redis-server at ${redis.url} (pid ${redis.pid})`);
}

function prepareUserDir() {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  const link = path.join(userDir, 'node_modules', require(path.join(root, 'package.json')).name);
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, 'dir');
  // Node-RED starts empty; the example is deployed through the admin API once it runs, because
  // whole-value ${VAR} credentials in a flow file are only substituted on deploy.
  fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');
  fs.rmSync(path.join(userDir, 'flows_cred.json'), { force: true });
  const port = Number(process.env.PORT || 1880);
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
    uiPort: port,
    uiHost: process.env.HOST || '127.0.0.1',
    flowFile: 'flows.json',
    // Headless deployments must pin the credential secret; the demo's comes from the environment.
    credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || 'demo-only-secret',
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
  }, null, 2)};\n`);
  process.env.WEBHOOK_PUBLIC_URL = process.env.WEBHOOK_PUBLIC_URL || `http://127.0.0.1:${port}`;
  process.env.WEBHOOK_SECRET = process.env.WEBHOOK_SECRET || 'demo-only-webhook-signing-secret-0123456789';
  return port;
}

function startNodeRed(port) {
  const red = require.resolve('node-red/red.js');
  nodeRed = spawn(process.execPath, [red, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'pipe'], env: process.env,
  });
  const logFile = fs.createWriteStream(path.join(runDir, 'node-red.log'));
  nodeRed.stdout.pipe(logFile);
  nodeRed.stderr.pipe(logFile);
  nodeRed.stdout.on('data', (d) => {
    for (const line of String(d).split('\n')) if (/\[(error|warn)\]/.test(line)) log(`node-red: ${line.trim()}`);
  });
  nodeRed.on('exit', (code) => { if (!stopping) { log(`node-red exited (${code}); see .run/node-red.log`); void stop(1); } });
  log(`node-red: pid ${nodeRed.pid}, editor at http://127.0.0.1:${port}/ (log in .run/node-red.log)`);
}

async function deployPipeline(port) {
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    try { if ((await fetch(`${base}/settings`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('Node-RED did not answer within 60 s; see .run/node-red.log');
    await new Promise((r) => setTimeout(r, 300));
  }
  const flows = fs.readFileSync(path.join(root, 'flows', FLOW), 'utf8');
  const res = await fetch(`${base}/flows`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: flows,
  });
  if (!res.ok) throw new Error(`deploying ${FLOW} failed: ${res.status} ${await res.text()}`);
  log(`node-red: deployed flows/${FLOW}`);
}

async function watchKafka() {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING, clientId: 'demo-monitor' }).admin();
  await admin.connect();
  started.unshift({ name: 'monitor', stop: () => admin.disconnect() });
  let last = null;
  const timer = setInterval(async () => {
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith('genesys.'));
      let total = 0;
      for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) total += Number(p.high);
      if (last !== null) process.stdout.write(`\r\x1b[K${new Date().toISOString().slice(11, 19)}  ${total - last} events/s into Kafka  (${total} total in ${topics.length} genesys.* topics)`);
      last = total;
    } catch { /* broker restarting */ }
  }, 1000);
  started.unshift({ name: 'ticker', stop: () => clearInterval(timer) });
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  if (nodeRed && nodeRed.exitCode === null) {
    const exited = new Promise((r) => nodeRed.once('exit', r));
    nodeRed.kill('SIGINT');
    const t = setTimeout(() => nodeRed.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(t);
  }
  for (const s of started) {
    try { await s.stop(); } catch (err) { log(`${s.name}: ${err.message}`); }
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

(async () => {
  fs.mkdirSync(runDir, { recursive: true });
  await startKafka();
  await startRedis();
  await startGenesys();
  const port = prepareUserDir();
  startNodeRed(port);
  await deployPipeline(port);
  await watchKafka();
})().catch((err) => { log(`demo failed: ${err.stack || err}`); void stop(1); });
