// Golden tests: every source shape -> the normalized event written by hand in test/events/golden.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { eventKey, normalizeEvent, validateInteraction } from '../../lib/events/normalize';
import { goldenCases } from './golden-cases';

describe('normalize: golden fixtures', () => {
  const cases = goldenCases();

  it('covers every source shape', () => {
    const prefixes = new Set(cases.map((c) => c.name.split('-')[0]));
    for (const p of ['push', 'realtime', 'notification', 'conversation', 'eventbridge', 'analytics', 'eventstream', 'details']) {
      assert.ok(prefixes.has(p), `no golden case for ${p}`);
    }
  });

  for (const c of cases) {
    it(`${c.name}: ${c.description}`, () => {
      const r = normalizeEvent(c.input, c.genesys);
      if (c.expected) {
        assert.ok(r.ok, r.ok ? '' : `unexpected failure: ${r.error.message}`);
        const { raw_payload: raw, ...rest } = r.event;
        assert.deepEqual(rest, c.expected);
        assert.equal(raw, c.input, 'raw_payload must be the source object itself (no copy)');
        assert.equal(validateInteraction(r.event), undefined);
        // Dedup on the raw event derives the same key as the normalized event carries.
        assert.equal(eventKey(c.input, c.genesys), `${c.expected.event_id}:${c.expected.sequence}`);
        assert.equal(eventKey(r.event), `${c.expected.event_id}:${c.expected.sequence}`);
      } else {
        assert.ok(!r.ok, 'expected a failure');
        assert.equal(r.error.reason, 'validation');
        assert.equal(r.error.code, c.error!.code);
        assert.equal(r.error.path, c.error!.path);
        if (c.error!.sourcePath) assert.equal(r.error.sourcePath, c.error!.sourcePath);
        assert.ok(r.error.message.length > 10);
      }
    });
  }

  it('a redelivered event (same body, new object, other receive time and topic) gets the same event_id and sequence', () => {
    for (const c of cases.filter((x) => x.expected)) {
      const again = normalizeEvent(JSON.parse(JSON.stringify(c.input)), { ...c.genesys, receivedAt: '2030-01-01T00:00:00.000Z', topicName: undefined });
      assert.ok(again.ok);
      assert.equal(again.event.event_id, c.expected!.event_id, c.name);
      assert.equal(again.event.sequence, c.expected!.sequence, c.name);
    }
  });

  it('EventBridge and WebSocket deliveries of the same conversation body share one event_id', () => {
    const eb = cases.find((c) => c.name.startsWith('eventbridge'))!;
    const ws = normalizeEvent(eb.input.detail, { source: 'notification', receivedAt: '2024-05-01T10:00:07.000Z' });
    const viaEb = normalizeEvent(eb.input, eb.genesys);
    assert.ok(ws.ok && viaEb.ok);
    assert.equal(ws.event.event_id, viaEb.event.event_id);
    assert.equal(ws.event.event_id, createHash('sha1').update(`conv-eb-1|${JSON.stringify(eb.input.detail.eventBody)}`).digest('hex'));
  });

  it('schema drift: ai_sentiment.score passes validation and stays in raw_payload', () => {
    const c = cases.find((x) => x.name === 'push-drift-ai-sentiment')!;
    const r = normalizeEvent(c.input, c.genesys);
    assert.ok(r.ok);
    assert.equal((r.event.raw_payload as any).data.ai_sentiment.score, 0.82);
    // Unknown top-level fields on the normalized event itself are accepted too (additionalProperties: true).
    assert.equal(validateInteraction({ ...r.event, ai_sentiment: { score: 0.82 } }), undefined);
  });
});
