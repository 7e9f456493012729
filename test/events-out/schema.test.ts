import { strict as assert } from 'node:assert';
import { canonicalInstant, ingestEventKey, validateIngestEvent } from '../../lib/genesys/ingest/schema';
import { InvalidPayloadError, prepareEvents } from '../../lib/genesys/ingest/pipeline';
import { sampleEvent } from './support';

describe('ingest event schema (guide 003)', () => {
  it('accepts the guide\'s sample events for every schemaVersion and action type', () => {
    for (const schemaVersion of [1, 2, 3] as const) {
      for (const actionType of ['ANSWER', 'TRANSFER', 'DISCONNECT', 'QUEUE', 'REQUEUE'] as const) {
        const e = sampleEvent({ schemaVersion, routingMetadata: { queueId: 'q', skill: 's', actionType } });
        assert.equal(validateIngestEvent(e), undefined, `${schemaVersion} ${actionType}`);
      }
    }
    const { attributes: _a, ...noAttributes } = sampleEvent();
    assert.equal(validateIngestEvent(noAttributes), undefined, 'attributes are optional');
  });

  it('names the failing path', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...sampleEvent(), eventTime: '2024-05-01T10:00:00' }, '/eventTime', /timezone/],
      [{ ...sampleEvent(), eventTime: 'yesterday' }, '/eventTime', /ISO 8601/],
      [{ ...sampleEvent(), routingMetadata: { queueId: 'q', skill: 's', actionType: 'HOLD' } }, '/routingMetadata/actionType', /one of ANSWER/],
      [{ ...sampleEvent(), schemaVersion: 4 }, '/schemaVersion', /<= 3/],
      [{ ...sampleEvent(), schemaVersion: '2' }, '/schemaVersion', /integer/],
      [{ ...sampleEvent(), interactionId: '' }, '/interactionId', /fewer than 1/],
      [{ ...sampleEvent(), unknownField: 1 }, '/unknownField', /not a known field/],
      [{ ...sampleEvent(), routingMetadata: { queueId: 'q', actionType: 'ANSWER' } }, '/routingMetadata/skill', /required/],
      [{ ...sampleEvent(), attributes: [] }, '/attributes', /object/],
    ];
    for (const [event, path, message] of cases) {
      const p = validateIngestEvent(event);
      assert.ok(p, `${path} should fail`);
      assert.equal(p.path, path);
      assert.match(p.message, message);
    }
  });

  it('keys an event by interaction, type, action and instant (not interactionId alone, as the guide does)', () => {
    const answer = sampleEvent();
    const transfer = { ...answer, eventType: 'routing.interaction.transfer', routingMetadata: { ...answer.routingMetadata, actionType: 'TRANSFER' as const } };
    assert.notEqual(ingestEventKey(answer), ingestEventKey(transfer));
    assert.notEqual(ingestEventKey(answer), ingestEventKey({ ...answer, eventTime: '2024-05-01T10:00:01Z' }));
    // The same instant written three ways is one event.
    const a = { ...answer, eventTime: '2024-05-01T10:00:00Z' };
    assert.equal(ingestEventKey(a), ingestEventKey({ ...a, eventTime: '2024-05-01T12:00:00.000+02:00' }));
    assert.equal(ingestEventKey(a), ingestEventKey({ ...a, eventTime: '2024-05-01t05:30:00-0430' }));
    assert.equal(canonicalInstant('2024-05-01T10:00:00.123456789Z'), '2024-05-01T10:00:00.123456789Z');
    assert.notEqual(canonicalInstant('2024-05-01T10:00:00.1234561Z'), canonicalInstant('2024-05-01T10:00:00.1234562Z'));
  });

  it('prepareEvents: one event, an array, JSON text; rejects a message with any bad element, whole', () => {
    const one = sampleEvent();
    assert.equal(prepareEvents(one).events.length, 1);
    assert.equal(prepareEvents([one, sampleEvent()]).events.length, 2);
    const fromText = prepareEvents(Buffer.from(JSON.stringify([one])));
    assert.deepEqual(fromText.events[0], one);
    assert.equal(fromText.bytes[0], Buffer.byteLength(JSON.stringify(one)));

    const bad = (payload: unknown, re: RegExp, index?: number) => {
      assert.throws(() => prepareEvents(payload), (err: unknown) => {
        assert.ok(err instanceof InvalidPayloadError);
        assert.match(err.message, re);
        if (index !== undefined) assert.equal(err.problems[0].index, index);
        return true;
      });
    };
    bad(42, /must be an event object, got number/);
    bad(null, /got null/);
    bad('not json', /not JSON/);
    bad([], /empty array/);
    bad([one, { ...sampleEvent(), schemaVersion: 9 }, sampleEvent()], /event\[1\]: \/schemaVersion/, 1);
    const circular: Record<string, unknown> = { ...sampleEvent() };
    circular.attributes = { self: circular };
    bad(circular, /cannot be serialized/);
  });

  it('sends a copy: changing the message afterwards does not change the queued event', () => {
    const e = sampleEvent();
    const p = prepareEvents(e);
    e.interactionId = 'changed';
    assert.notEqual(p.events[0].interactionId, 'changed');
  });
});
