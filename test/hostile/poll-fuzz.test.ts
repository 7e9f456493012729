// Hostile poll responses into genesys-eventstream-poll (node-red-node-test-helper, the simulator's
// canned poll answers): pages that are not JSON, not objects, lack events or a cursor, hold too many
// or too deep events, 4xx/5xx/429 with garbage, interleaved with valid pages. No crash, bad pages
// reported (a Catch node sees them) or retried, nothing emitted from them, every event of a valid
// page emitted once and in order. Two wires out: Node-RED deep-clones every message, as in real flows.
import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import type { EventStreamsState } from '../../simulator/routes/eventstreams';
import configInit = require('../../nodes/genesys-config/genesys-config');
import pollInit = require('../../nodes/genesys-eventstream-poll/genesys-eventstream-poll');
import { waitFor } from '../channels/support';
import { pollCase, type PollCase } from './generators/frames';
import { fuzzSeed, Rng } from './generators/prng';

helper.init(require.resolve('node-red'));

const SEED = fuzzSeed();
const ANSWERS = Number(process.env.FUZZ_POLLS) || 300;
const PAGE_SIZE = 100; // the poller refuses pages over max(1000, 10 × pageSize) events

describe(`hostile input: poll responses into genesys-eventstream-poll (FUZZ_SEED=${SEED})`, function () {
  this.timeout(60_000);
  let sim: GenesysSimulator;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new GenesysSimulator({ rateLimitPerMinute: 0 });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  it(`${ANSWERS} generated poll answers: bad pages reported or retried and never emitted, valid events emitted once in order`, async () => {
    const streams = sim.state.eventstreams as EventStreamsState;
    const stream = streams.createStream('hostile', [{ entityType: 'interaction', eventType: 'created' }]);
    const rng = new Rng(SEED + 7);
    const cases: PollCase[] = Array.from({ length: ANSWERS }, () => pollCase(rng, Math.max(1000, 10 * PAGE_SIZE)));
    const sentinel = { id: 'sentinel-3', entityType: 'interaction', eventType: 'created', entity: { id: 'sentinel-3' } };
    streams.pollOverrides.push(...cases.map((c) => c.override), { body: { events: [sentinel], cursor: 'fuzz-cursor-end', hasMore: false } });

    await helper.load([configInit, pollInit], [
      { id: 'tab', type: 'tab' },
      { id: 'c1', type: 'genesys-config', region: 'custom', baseUrl: sim.baseUrl, refreshBuffer: 300, timeout: 5 },
      { id: 'poll', type: 'genesys-eventstream-poll', z: 'tab', genesys: 'c1', mode: 'eventstream', streamId: stream.subscription.id, interval: 0.02,
        pageSize: PAGE_SIZE, ack: 'emit', store: 'memory', errorRetryMs: 10, backoffInitialMs: 2, backoffMaxMs: 10, wires: [['out', 'out2']] },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'out2', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ], { c1: { clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret } });
    const out: any[] = [];
    const caught: any[] = [];
    helper.getNode('out').on('input', (m: any) => out.push(m));
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    const t0 = Date.now();
    await waitFor(() => out.some((m) => m.payload?.id === 'sentinel-3'), 50_000, 'the sentinel page');
    const ms = Date.now() - t0;
    // After the sentinel the poller asks the real route with a made-up cursor: its 400s are not part of the run.
    const reported = caught.filter((m) => !/invalid cursor/.test(m.error?.message ?? ''));

    const expected = cases.flatMap((c) => {
      if (c.emits === 0) return [];
      const page = c.override.rawBody !== undefined ? JSON.parse(c.override.rawBody) : c.override.body;
      return (page as { events: unknown[] }).events.filter((e: any) => e?.id !== 'deep');
    });
    const byClass = new Map<string, number>();
    for (const c of cases) byClass.set(c.cls, (byClass.get(c.cls) ?? 0) + 1);
    console.log(`  [hostile] poll: seed ${SEED}, ${ANSWERS} answers in ${ms} ms, ${expected.length} events emitted, ${reported.length} reported to Catch; ` +
      [...byClass.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', '));

    assert.equal(streams.pollOverrides.length, 0, 'every canned answer was polled');
    assert.equal(out.length, expected.length + 1, 'exactly the events of the valid pages (and the sentinel)');
    assert.deepEqual(out.slice(0, -1).map((m) => JSON.stringify(m.payload)), expected.map((e) => JSON.stringify(e)), 'once each, in order, unchanged');
    assert.equal(reported.length, cases.filter((c) => c.reported).length, 'each bad page reported once to Catch');
    for (const m of reported) assert.ok(typeof m.payload?.code === 'string' || typeof m.payload?.status === 'number', `a reported error says what: ${JSON.stringify(m.payload).slice(0, 200)}`);
  });
});
