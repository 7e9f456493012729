// Fault suite: the complete example pipeline (flows/complete-pipeline.json) in a real headless Node-RED
// that loads dist/, fed by the Genesys simulator at a steady rate on every source at once (push
// webhook, notification channels, realtime analytics socket, details query), with one fault injected
// per scenario. The truth is the simulator's ledger (every event each delivery path emitted, with
// delivered true/false), compared with what a kafkajs consumer reads from the scenario's topics
// (genesys.interactions, genesys.raw, genesys.analytics, genesys.dlq, with a per-run prefix).
//
// "lost = 0", per source:
//   push (webhook, acknowledged only after Kafka/DLQ/dedup settled it): every event the platform got a
//     2xx for is in genesys.interactions (event_id = metadata.eventId) or, if it cannot be normalized,
//     in genesys.dlq; and its raw copy is in genesys.raw (or the DLQ). No exception in any scenario,
//     redeploys and SIGKILL included. The platform must not give up either (the registration's retry
//     budget outlasts every outage here; a 4xx would end it at once): a given-up event counts as lost.
//   notification channels and the analytics socket (the platform does not buffer: events published while
//     a socket is down are lost there, ledger delivered:false): every delivered event is in Kafka as its
//     own record (notification: event_id:sequence derived from the body as normalize derives it;
//     analytics: conversation_id + sequence in genesys.analytics) or in the DLQ. A delivered:false
//     event counts as recovered when its conversation's final state reached Kafka anyway: its last
//     event as its own record, or a REST snapshot (backfill after the gap or after a restart, or the
//     details query) taken after the conversation ended. Where Node-RED is redeployed or killed, the
//     events it held in memory are held to the same final-state rule (nothing can replay them). Only
//     after a SIGKILL, for the analytics socket (no acknowledgement and no REST safety net in the
//     example), events from before the last kill may have died with the process: counted, reported,
//     allowed; everything after it must be there.
//   details query: every conversation the simulator served has a details-query record (the record's
//     event_id is a hash of the record, so the match is per conversation).
// "duplicates after dedup = 0": per normalized key event_id:sequence, at most one record in
//   genesys.interactions and genesys.analytics, except the at-least-once copies that dedup lets through
//   by design for sources that wait for acknowledgement (lib/events/dedup/README.md), each classified
//   from the records themselves:
//     - a copy that arrived while the first copy was still pending (not yet stored, raw copy included,
//       plus 1 s for the ack's way back): a retry of a still-pending original;
//     - a later delivery attempt of the platform (push deliveryAttempt) after the first copy's delivery
//       failed (ack timeout, 503 on close, crash): the failed delivery's claim was given back. The
//       report counts apart those that arrived after the first copy had been stored (avoidable: the
//       late write of a timed-out delivery does not promote its claim);
//     - the same delivery written twice (an ambiguous Kafka failure retried): only where Kafka broke.
//   Anything else is a dedup failure and must be 0, in particular any copy of a socket event (their
//   claims are final at first sight).
// Every DLQ record carries a dlq.reason header.
//
// Short form (npm test): 500 events/s per source for 10 s per scenario. Long form: `npm run soak`
// (scripts/soak.js: FAULTS_PROFILE=soak, 2,000 events/s for 60 s, 30 s outages, 60 s token failure).
// FAULTS_VERBOSE=1 prints each scenario's timeline, report and figures.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { signHs256 } from '../../lib/ingest/jwt';
import { FaultRun, sleep, waitUntil, type FaultRunOptions } from './support/harness';
import { summarize, type CheckPolicy, type LedgerReport } from './support/ledger-check';
import { faultProfile } from './support/profile';

const profile = faultProfile();
const figures: string[] = [];

interface Expect extends CheckPolicy {
  /** Kafka itself was broken: the same delivery may have been written twice. */
  rewritesAllowed?: boolean;
}

async function scenario(opts: Omit<FaultRunOptions, 'profile'>, fault: (run: FaultRun) => Promise<void>, expect: Expect = {}): Promise<{ run: FaultRun; report: LedgerReport }> {
  const run = new FaultRun({ ...opts, profile });
  try {
    await run.start();
    await run.runTraffic(fault);
    const report = await run.settle(expect);
    assertKept(run, report, expect);
    figures.push(`${opts.name}: ${run.achievedRate.toFixed(0)} changes/s, ${report.push.delivered} push / ${report.notification.events} notification / ${report.analytics.events} analytics events, `
      + `${report.records.interactions} + ${report.records.analytics} records, ${report.records.dlq} dead letters, `
      + `${report.duplicates.interactions.total + report.duplicates.analytics.total} inherent duplicates, `
      + `${report.notification.recovered + report.analytics.recovered} recovered, RSS peak ${run.rssPeakMb.toFixed(0)} MB, `
      + `settled ${((run.timings.settled - run.timings['traffic stopped']) / 1000).toFixed(1)} s after the traffic, push answers ${JSON.stringify(run.pushAnswers)}`);
    return { run, report };
  } catch (err) {
    (err as Error).message += `\n--- Node-RED log (last lines) ---\n${run.red?.logLines.filter((l) => !/not valid JSON/.test(l)).slice(-60).join('\n') ?? ''}`;
    await run.stop();
    throw err;
  }
}

function assertKept(run: FaultRun, r: LedgerReport, expect: Expect): void {
  const why = `\n${summarize(r)}\npush answers: ${JSON.stringify(run.pushAnswers)}\nNode-RED errors:\n${run.errors().slice(0, 10).join('\n')}`;
  assert.ok(r.push.delivered > 0 && r.notification.delivered > 0 && r.analytics.delivered > 0 && r.details.events > 0, `every source delivered events${why}`);
  for (const [name, p] of Object.entries({ push: r.push, raw: r.raw, notification: r.notification, analytics: r.analytics, 'details-query': r.details })) {
    assert.equal(p.lost, 0, `${name}: lost${why}`);
  }
  assert.equal(r.push.givenUp, 0, `the platform gave up on push events${why}`);
  assert.equal(r.dlq.withoutReason, 0, `dead letters without a dlq.reason header${why}`);
  for (const [topic, d] of Object.entries(r.duplicates)) {
    assert.equal(d.unexplained, 0, `${topic}: duplicates that dedup should have dropped${why}`);
    if (!expect.rewritesAllowed) assert.equal(d.rewritten, 0, `${topic}: one delivery written twice${why}`);
  }
  assert.deepEqual(run.collector.unparsable, {}, 'records that are not JSON in the normalized topics');
}

/**
 * A signed push of one event, as the platform would send it; the answer's status and Retry-After.
 * malformed: broken as the simulator breaks them (no conversation id, so no dedup key): a dead letter at once.
 */
async function probeWebhook(run: FaultRun, malformed = false): Promise<{ status: number; retryAfter: string | null; ms: number }> {
  const started = Date.now();
  const now = Math.floor(started / 1000);
  const token = signHs256({ iss: 'genesys-cloud', aud: 'your-ingestion-service', iat: now, exp: now + 60, jti: randomUUID() }, run.webhookSecret);
  const conversationId = randomUUID();
  const body = {
    data: { conversationId, type: 'voice', state: 'waiting', direction: 'inbound', timestamp: new Date().toISOString(), queue: { id: 'probe', name: 'probe' }, agent: null, customer: { channelId: 'tel:+15550000000' }, waitTimeMs: 0 },
    metadata: { eventId: `probe-${conversationId}`, sequence: 1, subscriptionId: 'probe', publishedAt: new Date().toISOString() } as Record<string, unknown>,
  };
  if (malformed) (body as { data: unknown }).data = { type: 'voice', state: 404, timestamp: 'not-a-date' };
  const res = await fetch(`${run.env.WEBHOOK_PUBLIC_URL}/genesys/events`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
}

describe(`fault suite (${profile.name}: ${profile.rate} events/s per source, ${profile.trafficSeconds} s per scenario)`, function () {
  this.timeout((profile.trafficSeconds + profile.settleSeconds + 150) * 1000);
  let current: FaultRun | null = null;
  afterEach(async () => { await current?.stop(); current = null; });
  after(() => { if (process.env.FAULTS_VERBOSE || profile.name === 'soak') console.log(`\n  fault suite figures:\n    ${figures.join('\n    ')}`); });

  it(`Kafka broker killed for ${profile.kafkaOutageSeconds} s and restarted: nothing lost, backlog drained`, async () => {
    let downAt = 0;
    let upAt = 0;
    const { run, report } = await scenario({ name: 'kafka-killed', kafka: 'own' }, async (r) => {
      await sleep(2000);
      await r.kafka!.kill();
      downAt = Date.now();
      r.mark('kafka killed');
      await sleep(profile.kafkaOutageSeconds * 1000);
      await r.kafka!.launch();
      upAt = Date.now();
      r.mark('kafka back');
    }, { rewritesAllowed: true });
    current = run;
    const d = report.duplicates.interactions;
    figures.push(`kafka-killed: broker down ${((upAt - downAt) / 1000).toFixed(1)} s; duplicates: ${d.whilePending} while pending, `
      + `${d.afterFailedDelivery} after a failed delivery (${d.afterFailedDeliveryStoredFirst} of them after the first copy was stored), ${d.rewritten} rewritten`);
    assert.ok(run.push.stats.retries > 0, 'the webhook refused or timed out while Kafka was down, so the platform retried');
  });

  for (const failMode of ['open', 'closed'] as const) {
    it(`Redis killed for ${profile.redisOutageSeconds} s and restarted, dedup fail-${failMode}: nothing lost, no dedup failure`, async () => {
      const { run, report } = await scenario({ name: `redis-fail-${failMode}`, kafka: 'shared', overrides: { dedup: { failMode } } }, async (r) => {
        await sleep(2000);
        await r.redis.stop('SIGKILL');
        r.mark('redis killed');
        await sleep(profile.redisOutageSeconds * 1000);
        await r.redis.start();
        r.mark('redis back');
      });
      current = run;
      const log = run.red.log;
      assert.match(log, failMode === 'open' ? /deduplicating on this instance's local window/ : /events go to the error output until it returns/, 'dedup saw Redis go');
      assert.match(log, /Redis connected[\s\S]*Redis connected/, 'dedup reconnected');
      if (failMode === 'closed') {
        // Undecided events went to a dlq node of their own, which sent them back through dedup.
        const failed = await run.metric('events_failed_total', { node_type: 'dedup' });
        const retried = await run.metric('dlq_retries_total', { node_id: 'faults-dlq-dedup' });
        figures.push(`redis-fail-closed: ${failed} events undecided while Redis was down, ${retried} retries through dedup, ${report.records.dlq} dead letters`);
        assert.ok(failed > 0 && retried > 0, `fail-closed sent events to the error output and retried them (${failed} failed, ${retried} retried)`);
      }
    });
  }

  it(`WebSockets dropped every ${profile.socketDropEverySeconds} s, socket_closing, channel expiry: delivered events stored, lost ones backfilled`, async () => {
    const { run, report } = await scenario({ name: 'sockets', kafka: 'shared' }, async (r) => {
      const end = Date.now() + profile.trafficSeconds * 1000 - 1000;
      const actions = ['drop', 'socket_closing', 'expire', 'drop'] as const;
      for (let i = 0; Date.now() + profile.socketDropEverySeconds * 1000 < end; i++) {
        await sleep(profile.socketDropEverySeconds * 1000);
        const action = actions[i % actions.length];
        const ch = r.channels.list().find((c) => c.socket);
        if (action === 'drop') { r.channels.dropAll(); r.analytics.dropAll(); }
        else if (action === 'socket_closing' && ch) r.channels.sendSocketClosing(ch.id, 1000);
        else if (action === 'expire' && ch) r.channels.expire(ch.id);
        r.mark(action);
      }
    });
    current = run;
    const lostOnPlatform = run.sim.ledger.entries.filter((e) => (e.path === 'notification' || e.path === 'analytics-ws') && !e.delivered).length;
    figures.push(`sockets: ${lostOnPlatform} events lost on the platform while sockets were down, recovered ${JSON.stringify(report.recoveredBy)}`);
    assert.ok(lostOnPlatform > 0, 'the drops cost events on the platform (else the scenario proves nothing)');
    assert.ok(Object.keys(report.recoveredBy).some((k) => /backfill/.test(k)), 'the backfill recovered conversations');
    assert.ok(run.channels.counts.created >= 2, 'the expired channel was replaced');
  });

  it(`token endpoint failing for ${profile.tokenFailureSeconds} s while tokens are revoked and sockets drop: recovers and backfills`, async () => {
    let failed = 0;
    const { run, report } = await scenario({ name: 'token', kafka: 'shared' }, async (r) => {
      await sleep(2000);
      const fault = { pathPrefix: '/oauth/token', status: 503, count: 1e9 };
      r.sim.faults.queue.push(fault);
      r.sim.revokeAllTokens();
      r.channels.dropAll();
      r.analytics.dropAll();
      r.mark('token endpoint down, tokens revoked, sockets dropped');
      await sleep(profile.tokenFailureSeconds * 1000);
      failed = 1e9 - fault.count;
      r.sim.faults.queue.splice(r.sim.faults.queue.indexOf(fault), 1);
      r.mark('token endpoint back');
    });
    current = run;
    figures.push(`token: ${failed} token requests failed, recovered ${JSON.stringify(report.recoveredBy)}`);
    assert.ok(failed > 0, 'the pipeline asked for a token while the endpoint failed');
    assert.ok(run.sim.ledger.entries.some((e) => e.path === 'notification' && !e.delivered), 'events were lost on the platform while the sockets were down');
    assert.ok(Object.keys(report.recoveredBy).some((k) => /backfill|details/.test(k)), 'lost events were recovered after the token came back');
    await run.sourcesReady(5000);
  });

  it('Node-RED redeployed mid-stream (full deploy): acknowledged events survive, the sources come back', async () => {
    const { run } = await scenario({ name: 'redeploy', kafka: 'shared' }, async (r) => {
      await sleep(3000);
      await r.deploy();
      r.mark('redeployed');
      await r.sourcesReady();
      r.mark('sources back');
    }, { inProcessLossAccepted: true, ackLostWithProcess: true });
    current = run;
    assert.equal(run.push.registrations.size, 1, 'the redeploy kept one push registration');
  });

  it('Node-RED killed with SIGKILL (twice: once in full flow, once with dead letters spooled while Kafka is down) and restarted', async () => {
    let spooled = 0;
    const expect: Expect = { inProcessLossAccepted: true, ackLostWithProcess: true, rewritesAllowed: true, lostWithProcessPaths: ['analytics-ws'] };
    const { run, report } = await scenario({ name: 'sigkill', kafka: 'own', traffic: { malformedRate: 0.01 } }, async (r) => {
      await sleep(2000);
      await r.killNodeRed();
      r.mark('node-red killed (kafka up)');
      await r.restartNodeRed();
      r.mark('node-red back');
      await r.kafka!.kill();
      r.mark('kafka killed');
      // Malformed events are dead letters at once; with Kafka down they go to the fsynced spool. The
      // traffic's own (1 %) trickle in slowly while Kafka is down (the sender waits on unacknowledged
      // requests), so a few more are sent here.
      const probes = Array.from({ length: 5 }, () => probeWebhook(r, true).catch(() => undefined));
      await waitUntil('dead letters in the spool', () => r.totalSpoolDepth() > 0, 30_000, 200);
      await Promise.all(probes);
      spooled = r.totalSpoolDepth();
      await r.killNodeRed();
      expect.lostWithProcessBefore = Date.now();
      r.mark(`node-red killed (kafka down, ${spooled} dead letters spooled)`);
      await r.kafka!.launch();
      r.mark('kafka back');
      await r.restartNodeRed();
      r.mark('node-red back');
    }, expect);
    current = run;
    figures.push(`sigkill: ${spooled} dead letters in the spool at the kill, ${report.push.deadLettered} push events dead-lettered, `
      + `${report.analytics.lostWithProcess} analytics events died with the killed process`);
    assert.ok(spooled > 0);
    await waitUntil('spool drained', () => run.totalSpoolDepth() === 0, 30_000, 200);
    assert.ok(report.push.deadLettered > 0, 'the malformed push events are in the DLQ');
    assert.match(run.red.log, /dead letters from a previous run found in/, 'the restarted dlq node recovered its spool');
    // Node-RED answers HTTP before a cold start has started its flows: the webhook path says 503, not a final 404.
    assert.equal(run.pushAnswers['404'] ?? 0, 0, `no 404 while Node-RED restarted: ${JSON.stringify(run.pushAnswers)}`);
  });

  it(`network to Kafka stalled for ${profile.stallSeconds} s then slowed: backpressure reaches the webhook as 503 + Retry-After, memory stays bounded`, async () => {
    const probes: { status: number; retryAfter: string | null; ms: number }[] = [];
    let baseline = 0;
    const { run } = await scenario({
      name: 'slow-network', kafka: 'proxied',
      // Bounds low enough to reach (the example ships 10,000 of each; the simulated platform holds at
      // most 8 requests of 10 events open, so 40 unsettled events is a full backlog here).
      overrides: { webhook: { maxUnsettled: 40 }, kafkaOut: { maxQueued: 1000 } },
    }, async (r) => {
      await sleep(2000);
      baseline = r.rssPeakMb;
      r.proxy!.setMode({ kind: 'stall' });
      r.mark('network to kafka stalled');
      // A probe every 500 ms, not waiting for the previous one: the first ones wait for the ack timeout,
      // the later ones meet a full backlog and are refused at once.
      const end = Date.now() + profile.stallSeconds * 1000;
      const pending: Promise<void>[] = [];
      while (Date.now() < end) {
        await sleep(500);
        pending.push(probeWebhook(r).then((p) => { probes.push(p); }, () => { probes.push({ status: 0, retryAfter: null, ms: 0 }); }));
      }
      await Promise.all(pending);
      r.proxy!.setMode({ kind: 'delay', delayMs: 50 });
      r.mark('network slow (50 ms per chunk)');
      await sleep(2000);
      r.proxy!.setMode({ kind: 'pass' });
      r.mark('network normal');
    });
    current = run;
    const refused = probes.filter((p) => p.status === 503 && Number(p.retryAfter) >= 1);
    const atOnce = refused.filter((p) => p.ms < 1000);
    figures.push(`slow-network: ${refused.length}/${probes.length} probes answered 503 with Retry-After (${[...new Set(refused.map((p) => p.retryAfter))].join(', ')} s), `
      + `${atOnce.length} of them at once (backlog over maxUnsettled); RSS ${baseline.toFixed(0)} MB before the stall, peak ${run.rssPeakMb.toFixed(0)} MB`);
    assert.ok(refused.length > 0, `the webhook pushed back while Kafka was unreachable: ${JSON.stringify(probes)}`);
    assert.ok(atOnce.length > 0, `with the backlog at its bound, requests are refused at once instead of queued: ${JSON.stringify(probes)}`);
    assert.ok(run.push.attempts.some((a) => a.status === 503), 'the platform saw 503s too');
    assert.ok(run.proxy!.bytes > 0, 'Kafka traffic went through the proxy');
    assert.ok(run.rssPeakMb < 700, `Node-RED stayed under 700 MB (peak ${run.rssPeakMb.toFixed(0)} MB)`);
  });
});
