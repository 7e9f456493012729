// Hostile input against genesys-webhook-in inside Node-RED (node-red-node-test-helper, the node's
// route on RED.httpNode, and its dedicated listener): ≥ 10,000 generated requests of every bad
// class interleaved with valid ones. Each answer must be the right one, nothing refused may reach
// the flow, every valid event must, the process stays up and its heap stays bounded.
// Repeat a run with FUZZ_SEED=<seed> (printed below); FUZZ_REQUESTS changes the count.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { helper, settleInit, startServer, webhookInit } from '../webhook/node-support';
import { fuzzSeed, Rng } from './generators/prng';
import { FUZZ_AUD, FUZZ_ISS, FUZZ_SECRET, webhookRequest, type FuzzRequest } from './generators/webhook';
import { heapAfterGc, pool, send, type Outcome } from './support/http';

const SEED = fuzzSeed();
const REQUESTS = Number(process.env.FUZZ_REQUESTS) || 10_000;
const BODY_KB = 512;
const GEN = { bodyLimit: BODY_KB * 1024, maxEvents: 10_000 };

const flow = (props: Record<string, unknown> = {}) => [
  { id: 'tab1', type: 'tab', label: 'hostile webhook' },
  { id: 'in', z: 'tab1', type: 'genesys-webhook-in', path: '/fuzz', ack: 'delivery', ackTimeout: 5, maxUnsettled: 0, maxBodyKb: BODY_KB,
    audience: FUZZ_AUD, issuer: FUZZ_ISS, clockTolerance: 30, wires: [['out', 'settler']], ...props },
  { id: 'out', z: 'tab1', type: 'helper' },
  { id: 'settler', z: 'tab1', type: 'test-settle', wires: [] },
  { id: 'catcher', z: 'tab1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab1', type: 'helper' },
];

interface Tally { sent: number; byClass: Map<string, Map<string, number>>; wrong: string[]; acceptedEvents: number }

/** Sends generated requests and checks every answer against its case. */
async function fuzz(url: string, rng: Rng, count: number, parallel: number): Promise<Tally> {
  const t: Tally = { sent: 0, byClass: new Map(), wrong: [], acceptedEvents: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  // Requests are generated in order (the seed decides the sequence), then sent in parallel.
  const requests: FuzzRequest[] = Array.from({ length: count }, () => webhookRequest(rng, GEN));
  try {
    await pool(count, parallel, async (i) => {
      const r = requests[i];
      const o: Outcome = await send(url, r, r.expect.includes('closed') ? false : agent);
      requests[i] = null as unknown as FuzzRequest; // the big bodies go as soon as they are sent
      t.sent++;
      const m = t.byClass.get(r.cls) ?? new Map<string, number>();
      m.set(String(o.status), (m.get(String(o.status)) ?? 0) + 1);
      t.byClass.set(r.cls, m);
      if (!r.expect.includes(o.status)) t.wrong.push(`#${i} ${r.cls}: expected ${r.expect.join('|')}, got ${o.status} ${o.body.slice(0, 120)}`);
      if (o.status === 200) t.acceptedEvents += r.events;
      if (o.status === 401 && !/^Bearer realm=/.test(String(o.headers['www-authenticate']))) t.wrong.push(`#${i} ${r.cls}: 401 without WWW-Authenticate`);
      if (o.status === 401 && /expired|signature|audience|issuer|alg/i.test(o.body)) t.wrong.push(`#${i} ${r.cls}: 401 tells the caller why: ${o.body}`);
    });
  } finally {
    agent.destroy();
  }
  return t;
}

function report(label: string, t: Tally, ms: number, heap: { before: number; after: number; peak: number }): void {
  const rows = [...t.byClass.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cls, m]) => `    ${cls.padEnd(52)} ${[...m.entries()].map(([s, n]) => `${s}×${n}`).join(' ')}`);
  console.log(`  [hostile] ${label}: seed ${SEED}, ${t.sent} requests in ${(ms / 1000).toFixed(1)} s (${Math.round(t.sent / (ms / 1000))}/s), ` +
    `${t.acceptedEvents} events accepted; heap after GC ${heap.before.toFixed(1)} → ${heap.after.toFixed(1)} MB (peak sample ${heap.peak.toFixed(1)} MB)\n${rows.join('\n')}`);
}

describe(`hostile input: genesys-webhook-in fuzz (FUZZ_SEED=${SEED})`, function () {
  this.timeout(120_000);
  before(startServer);
  afterEach(() => helper.unload());
  after(() => helper.stopServer());

  async function load(props: Record<string, unknown> = {}) {
    await helper.load([webhookInit, settleInit], flow(props), { in: { secret: FUZZ_SECRET } });
    const node = helper.getNode('in') as any;
    await node.ready;
    let emitted = 0;
    const caught: any[] = [];
    helper.getNode('out').on('input', () => { emitted++; });
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    return { node, emitted: () => emitted, caught };
  }

  async function run(label: string, url: string, count: number, emitted: () => number, caught: any[], node: any): Promise<void> {
    const rng = new Rng(SEED ^ count);
    await fuzz(url, new Rng(SEED + 1), 200, 8); // warm-up: JIT, token cache, sockets
    const base = emitted();
    // The test helper's sinon spies keep every send/log call (with its message): forget them, or they are what grows.
    const forgetSpies = () => (helper as any)._sandbox.resetHistory();
    forgetSpies();
    const before = heapAfterGc();
    let peak = before;
    const sampler = setInterval(() => {
      forgetSpies();
      const m = process.memoryUsage();
      peak = Math.max(peak, (m.heapUsed + m.arrayBuffers) / 1e6);
    }, 100);
    const t0 = Date.now();
    let t: Tally;
    try {
      t = await fuzz(url, rng, count, 8);
    } finally {
      clearInterval(sampler);
    }
    const ms = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
    forgetSpies();
    const after = heapAfterGc();
    report(label, t, ms, { before, after, peak });
    assert.deepEqual(t.wrong.slice(0, 20), [], `${t.wrong.length} wrong answers (seed ${SEED})`);
    assert.equal(t.sent, count);
    assert.equal(emitted() - base, t.acceptedEvents, 'messages in the flow = events of the accepted requests, nothing from refused ones');
    assert.ok(t.acceptedEvents > 0);
    assert.equal(deliveryTracker.unsettled, 0, 'every accepted event settled');
    assert.deepEqual(caught.map((m) => m.error?.message), [], 'no error reached a Catch node');
    assert.equal(node.receiver.stats.timedOut, 0);
    assert.ok(after - before < 40, `heap after GC grew ${(after - before).toFixed(1)} MB`);
    assert.ok(ms < 60_000, `took ${ms} ms`);
  }

  it(`answers ${REQUESTS} generated requests on RED.httpNode correctly, emits exactly the accepted events, heap bounded`, async () => {
    const { node, emitted, caught } = await load();
    await run('RED.httpNode', helper.url() + '/fuzz', REQUESTS, emitted, caught, node);
  });

  it('the same on the dedicated listener (2,000 requests)', async () => {
    const { node, emitted, caught } = await load({ listener: 'dedicated', port: 0, host: '127.0.0.1' });
    await run('dedicated listener', `http://127.0.0.1:${node.listenerPort}/fuzz`, Math.min(REQUESTS, 2000), emitted, caught, node);
  });
});
