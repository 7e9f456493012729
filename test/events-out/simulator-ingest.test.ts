import { strict as assert } from 'node:assert';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../simulator/server';
import { ingestState, INGEST_ROUTE } from '../../simulator/routes/ingest';
import { ingestEventKey } from '../../lib/genesys/ingest/schema';
import { sampleEvent } from './support';

describe('simulator: events ingest endpoint (guide 003)', () => {
  let sim: GenesysSimulator;
  let token: string;
  beforeEach(async () => {
    sim = new GenesysSimulator();
    await sim.start();
    const res = await fetch(`${sim.baseUrl}/oauth/token`, {
      method: 'POST', body: 'grant_type=client_credentials',
      headers: { authorization: 'Basic ' + Buffer.from(`${DEFAULT_CLIENT.id}:${DEFAULT_CLIENT.secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  afterEach(async () => { await sim.stop(); });

  const post = async (body: unknown, auth = `Bearer ${token}`) => {
    const res = await fetch(`${sim.baseUrl}${INGEST_ROUTE}`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };

  it('accepts a valid batch, records each event in the ledger and in state.batches', async () => {
    const events = [sampleEvent(), sampleEvent()];
    const r = await post({ events });
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 2);
    const st = ingestState(sim);
    assert.equal(st.batches.length, 1);
    assert.deepEqual(st.batches[0].events, events);
    assert.equal(st.batches[0].bytes, Buffer.byteLength(JSON.stringify({ events })));
    assert.deepEqual(sim.ledger.byPath('ingest').map((e) => e.eventId), events.map(ingestEventKey));
  });

  it('401 without a valid token; 400 with an errors array naming each bad event; 413 over the size limit', async () => {
    assert.equal((await post({ events: [sampleEvent()] }, 'Bearer nope')).status, 401);
    const bad = await post({ events: [sampleEvent(), { ...sampleEvent(), schemaVersion: 7 }, { ...sampleEvent(), eventTime: 'soon' }] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => [e.index, e.path]), [[1, '/events/1/schemaVersion'], [2, '/events/2/eventTime']]);
    for (const body of ['not json', [], { events: [] }, { events: 'x' }, { events: [sampleEvent()], extra: 1 }]) {
      const r = await post(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.body.errors.length > 0);
    }
    ingestState(sim).options.maxBodyBytes = 2000;
    assert.equal((await post({ events: [sampleEvent({}, 3000)] })).status, 413);
    assert.equal(ingestState(sim).acceptedEvents, 0, 'nothing rejected was recorded');
    assert.equal(sim.ledger.byPath('ingest').length, 0);
  });

  it('429 with Retry-After: every Nth request, a token bucket, too many at once; injected 5xx', async () => {
    const st = ingestState(sim);
    st.options.rateLimitEveryNth = 2;
    st.options.retryAfterSeconds = 3;
    assert.equal((await post({ events: [sampleEvent()] })).status, 200);
    const limited = await post({ events: [sampleEvent()] });
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfter, '3');
    assert.equal(limited.body.code, 'too.many.requests.retry.after');
    st.options.rateLimitEveryNth = 0;
    st.options.retryAfterSeconds = null;
    st.options.tokenBucket = { perSecond: 0.5, burst: 1 };
    assert.equal((await post({ events: [sampleEvent()] })).status, 200);
    const dry = await post({ events: [sampleEvent()] });
    assert.equal(dry.status, 429);
    assert.equal(dry.retryAfter, '2', 'one token every 2 s');
    st.options.tokenBucket = null;
    st.options.maxConcurrent = 2;
    st.options.processingDelayMs = 300;
    const answers = await Promise.all([1, 2, 3, 4].map(() => post({ events: [sampleEvent()] })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 429, 429]);
    assert.equal(st.maxInFlight, 3, 'the 3rd and 4th each arrived with two in flight');
    sim.injectFault(INGEST_ROUTE, 503, 1);
    assert.equal((await post({ events: [sampleEvent()] })).status, 503);
  });
});
