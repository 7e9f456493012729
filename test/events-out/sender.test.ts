import { strict as assert } from 'node:assert';
import { DEFAULT_CLIENT } from '../../simulator/server';
import { oauthState } from '../../simulator/routes/oauth';
import { INGEST_ROUTE } from '../../simulator/routes/ingest';
import { IngestSender } from '../../lib/genesys/ingest/sender';
import { IngestPipeline, prepareEvents } from '../../lib/genesys/ingest/pipeline';
import { GenesysApiClient } from '../../lib/genesys/api-client';
import { TokenManager } from '../../lib/genesys/token-manager';
import { GenesysApiError, type GenesysApi } from '../../lib/genesys/types';
import { events, receivedIds, sampleEvent, startRig, type IngestRig } from './support';

describe('ingest sender against the simulator', function () {
  let rig: IngestRig;
  afterEach(async () => { await rig?.close(); });

  it('keeps every request under the byte budget and delivers every event once, in batches', async () => {
    rig = await startRig({ batchBytes: 20_000, lingerMs: 20 });
    const sent = events(300, 600); // ~800 bytes each → ~24 per batch
    const r = await rig.submit(sent);
    assert.equal(r.accepted, 300);
    assert.deepEqual(r.failed, []);
    assert.ok(rig.st.batches.length >= 12, `${rig.st.batches.length} batches`);
    for (const b of rig.st.batches) assert.ok(b.bytes <= 20_000, `batch of ${b.bytes} bytes`);
    assert.deepEqual(receivedIds(rig.st).sort(), sent.map((e) => e.interactionId).sort());
    // What the sender counted is what went over the wire.
    const accepted = rig.audit.filter((a) => a.outcome === 'accepted');
    assert.deepEqual(accepted.map((a) => a.bytes).sort(), rig.st.batches.map((b) => b.bytes).sort());
  });

  it('a linger time sends a lone event without waiting for the budget', async () => {
    rig = await startRig({ lingerMs: 30 });
    const t0 = Date.now();
    const r = await rig.submit(sampleEvent());
    assert.equal(r.accepted, 1);
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(rig.st.batches.length, 1);
  });

  it('413 splits the batch in half until it fits (and lowers the budget); a single event over the limit fails alone', async () => {
    rig = await startRig({ batchBytes: 200_000, lingerMs: 50 });
    rig.st.options.maxBodyBytes = 12_000;
    const budgets: number[] = [];
    rig.sender.on('budget', (b: number) => budgets.push(b));
    const sent = events(150, 900);
    const tooBig = sampleEvent({}, 15_000);
    const [r, big] = await Promise.all([rig.submit(sent), rig.submit(tooBig)]);
    assert.equal(r.accepted, 150);
    assert.deepEqual(r.failed, []);
    assert.equal(big.failed.length, 1);
    assert.equal(big.failed[0].error.kind, 'too-large');
    assert.equal(big.failed[0].error.status, 413);
    assert.ok(rig.st.answers[413] >= 3, `${rig.st.answers[413]} × 413`);
    for (const b of rig.st.batches) assert.ok(b.bytes <= 12_000);
    assert.deepEqual(receivedIds(rig.st).sort(), sent.map((e) => e.interactionId).sort());
    assert.ok(budgets.length > 0 && rig.sender.budget <= 12_000, `budget now ${rig.sender.budget}`);
    const split = rig.audit.filter((a) => a.outcome === 'split');
    assert.ok(split.length >= 3);
    assert.ok(rig.audit.some((a) => a.parentBatchId && split.some((s) => s.batchId === a.parentBatchId)));
    // Later traffic goes straight out at the learned size: no more 413s.
    const before = rig.st.answers[413];
    assert.equal((await rig.submit(events(40, 900))).accepted, 40);
    assert.equal(rig.st.answers[413], before);
  });

  it('an event larger than the request limit fails before any request', async () => {
    rig = await startRig({ maxRequestBytes: 10_000 });
    const r = await rig.submit(sampleEvent({}, 20_000));
    assert.equal(r.failed[0].error.kind, 'too-large');
    assert.equal(rig.st.requests, 0);
  });

  it('429: waits Retry-After, then succeeds (timing within bounds)', async () => {
    rig = await startRig();
    rig.sim.injectFault(INGEST_ROUTE, 429, 1, 1);
    const t0 = Date.now();
    const r = await rig.submit(sampleEvent());
    const took = Date.now() - t0;
    assert.equal(r.accepted, 1);
    assert.ok(took >= 1000 && took < 1600, `took ${took} ms`);
    const line = rig.audit.find((a) => a.outcome === 'accepted')!;
    assert.equal(line.attempts, 2);
  });

  it('429: the sender itself waits Retry-After (not only the shared API client\'s pause)', async () => {
    rig = await startRig();
    const calls: number[] = [];
    const api: GenesysApi = {
      apiBase: 'fake',
      async request<T>() {
        calls.push(Date.now());
        if (calls.length === 1) throw new GenesysApiError('rate limited', 429, {}, 300);
        return { status: 200, headers: {}, body: {} as T };
      },
    };
    const sender = new IngestSender({ api, lingerMs: 0 });
    const r = await new IngestPipeline(sender).submit(prepareEvents(sampleEvent()));
    assert.equal(r.accepted, 1);
    const gap = calls[1] - calls[0];
    assert.ok(gap >= 300 && gap < 450, `retried after ${gap} ms`);
    await sender.close(100);
  });

  it('429 from the endpoint\'s own limit (every Nth request, token bucket): everything still arrives, paced', async () => {
    rig = await startRig({ batchBytes: 3_000, concurrency: 2 });
    rig.st.options.tokenBucket = { perSecond: 20, burst: 3 };
    const sent = events(60, 300); // ~20 batches of ~7 events
    const t0 = Date.now();
    const r = await rig.submit(sent);
    assert.equal(r.accepted, 60);
    assert.ok(rig.st.answers[429] > 0, 'the bucket ran dry at least once');
    assert.ok(Date.now() - t0 >= 1000, 'waited out a Retry-After of 1 s');
    rig.st.options.tokenBucket = null;
    rig.st.options.rateLimitEveryNth = 3;
    rig.st.options.retryAfterSeconds = 0;
    const r2 = await rig.submit(events(30, 300));
    assert.equal(r2.accepted, 30);
    assert.deepEqual(new Set(receivedIds(rig.st)).size, 90);
  });

  it('429 more often than allowed: the events fail as rate-limited (no endless loop)', async () => {
    rig = await startRig({ maxRateLimitRetries: 2 });
    rig.sim.injectFault(INGEST_ROUTE, 429, 10, 0);
    const r = await rig.submit(sampleEvent());
    assert.equal(r.failed[0].error.kind, 'rate-limited');
    assert.equal(rig.sim.count(`POST ${INGEST_ROUTE}`), 3);
  });

  it('401: one fresh token and one retry; a second 401 fails the batch instead of looping', async () => {
    rig = await startRig();
    await rig.submit(sampleEvent());
    const oauth = oauthState(rig.sim);
    const calls = oauth.calls;
    rig.sim.revokeAllTokens();
    const r = await rig.submit(sampleEvent());
    assert.equal(r.accepted, 1);
    assert.equal(oauth.calls, calls + 1, 'exactly one token refresh');

    rig.sim.injectFault(INGEST_ROUTE, 401, 5);
    const before = rig.sim.count(`POST ${INGEST_ROUTE}`);
    const r2 = await rig.submit(sampleEvent());
    assert.equal(r2.failed[0].error.kind, 'unauthorized');
    assert.match(r2.failed[0].error.message, /eventbridge:ingest/);
    assert.equal(rig.sim.count(`POST ${INGEST_ROUTE}`) - before, 2, 'the request and one retry with a fresh token');
    rig.sim.faults.queue.length = 0;
  });

  it('5xx and connection errors back off and retry a bounded number of times', async () => {
    rig = await startRig({ maxAttempts: 3 });
    rig.sim.injectFault(INGEST_ROUTE, 503, 2);
    const r = await rig.submit(sampleEvent());
    assert.equal(r.accepted, 1);
    assert.equal(rig.audit.at(-1)!.attempts, 3);

    rig.sim.injectFault(INGEST_ROUTE, 500, 3);
    const r2 = await rig.submit(sampleEvent());
    assert.equal(r2.failed[0].error.kind, 'unavailable');
    assert.equal(r2.failed[0].error.status, 500);
    assert.equal(rig.audit.at(-1)!.attempts, 3);

    // Nothing listening: status 0, same bound.
    const tokens = new TokenManager({ tokenUrl: `${rig.sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
    const dead = new GenesysApiClient({ apiBase: 'http://127.0.0.1:9', tokens });
    const sender = new IngestSender({ api: dead, lingerMs: 0, maxAttempts: 2, retry: { initialMs: 10, maxMs: 20 } });
    const r3 = await new IngestPipeline(sender).submit(prepareEvents(sampleEvent()));
    assert.equal(r3.failed[0].error.kind, 'unavailable');
    assert.equal(r3.failed[0].error.status, 0);
    await sender.close(100);
    dead.close();
    tokens.close();
  });

  it('other 4xx: the events fail with the response body', async () => {
    rig = await startRig();
    rig.sim.injectFault(INGEST_ROUTE, 422, 1, undefined, { message: 'unsupported schemaVersion for this org', code: 'bad.schema', status: 422 });
    const r = await rig.submit([sampleEvent(), sampleEvent()]);
    assert.equal(r.failed.length, 2);
    assert.equal(r.failed[0].error.kind, 'rejected');
    assert.deepEqual(r.failed[0].error.body, { message: 'unsupported schemaVersion for this org', code: 'bad.schema', status: 422 });
    assert.match(r.failed[0].error.message, /422.*unsupported schemaVersion/);
  });

  it('400 naming events: those fail with their errors, the others are resent once', async () => {
    rig = await startRig({ lingerMs: 30 });
    // Bypass the node's validation to make the simulator reject one event of a batch.
    const good = [sampleEvent(), sampleEvent()];
    const bad = { ...sampleEvent(), routingMetadata: { queueId: 'q', skill: 's', actionType: 'HOLD' } };
    const outcomes = await Promise.all([good[0], bad, good[1]].map((event) => new Promise<any>((settle) =>
      rig.sender.enqueue({ event: event as any, bytes: Buffer.byteLength(JSON.stringify(event)), enqueuedAt: Date.now(), settle }))));
    assert.equal(outcomes[0].ok, true);
    assert.equal(outcomes[2].ok, true);
    assert.equal(outcomes[1].ok, false);
    assert.equal(outcomes[1].error.status, 400);
    assert.match(outcomes[1].error.message, /\/events\/1\/routingMetadata\/actionType/);
    assert.deepEqual(receivedIds(rig.st).sort(), good.map((e) => e.interactionId).sort());
    assert.deepEqual(rig.audit.map((a) => a.outcome), ['partial', 'accepted']);
  });

  it('never more than 5 requests in flight (the simulator counts), and it does use 5', async () => {
    rig = await startRig({ batchBytes: 4_000, lingerMs: 0 });
    rig.st.options.processingDelayMs = 60;
    const r = await rig.submit(events(200, 300));
    assert.equal(r.accepted, 200);
    assert.equal(rig.st.maxInFlight, 5);
    rig.st.options.maxConcurrent = 5; // the endpoint's own limit would answer 429 above 5
    rig.st.reset();
    await rig.submit(events(100, 300));
    assert.equal(rig.st.answers[429], undefined);
  });

  it('close: flushes what is queued; past the timeout every waiting event fails as closed (none left pending)', async () => {
    rig = await startRig({ batchBytes: 2_000, concurrency: 1, lingerMs: 10_000 });
    const quick = rig.submit(events(5, 100));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await rig.sender.close(2000);
    assert.ok(Date.now() - t0 < 1000, 'linger does not hold close back');
    assert.equal((await quick).accepted, 5);

    await rig.close();
    rig = await startRig({ batchBytes: 2_000, concurrency: 1 });
    rig.st.options.processingDelayMs = 150;
    const slow = rig.submit(events(60, 300));
    await new Promise((r) => setTimeout(r, 50));
    const report = await rig.sender.close(300);
    const r = await slow;
    assert.equal(r.accepted + r.failed.length, 60);
    assert.ok(r.failed.length > 0 && report.unsent === r.failed.length, `unsent ${report.unsent}, failed ${r.failed.length}`);
    assert.ok(r.failed.every((f) => f.error.kind === 'closed'));
    assert.ok(r.accepted <= rig.st.acceptedEvents);
    assert.equal(rig.sender.queued, 0);
    const late = await rig.submit(sampleEvent());
    assert.equal(late.failed[0].error.kind, 'closed');
  });
});
