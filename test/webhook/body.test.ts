import { strict as assert } from 'node:assert';
import { describeEvent, parseEvents } from '../../lib/ingest/body';

const CONV = '5f1c2a3b-1111-4222-8333-944455556666';

describe('webhook bodies and envelopes', () => {
  it('parses one event or an array, and refuses what can never succeed', () => {
    assert.deepEqual(parseEvents(Buffer.from('{"a":1}')), { ok: true, events: [{ a: 1 }], batched: false });
    const batch = parseEvents(Buffer.from('[{"a":1},{"b":2}]'));
    assert.ok(batch.ok && batch.events.length === 2 && batch.batched);
    const bad: [string, RegExp][] = [['', /empty body/], ['{"a":', /not valid JSON/], ['[]', /empty array/], ['[1]', /event 0 is not a JSON object/], ['"x"', /JSON object or an array/], ['null', /JSON object/]];
    for (const [b, re] of bad) {
      const r = parseEvents(Buffer.from(b));
      assert.ok(!r.ok, b);
      assert.match(r.reason, re, b);
    }
    assert.match((parseEvents(Buffer.from('[{},{},{}]'), 2) as any).reason, /more than 2 events/);
  });

  it("recognises the guide's push payload", () => {
    assert.deepEqual(describeEvent({ data: { conversationId: CONV, type: 'voice' }, metadata: { eventId: 'e1', sequence: 1 } }),
      { envelope: 'push', conversationId: CONV, topicName: 'realtime:interaction' });
  });

  it('recognises an EventBridge event from an API destination', () => {
    const ev = {
      version: '0', id: 'eb-1', 'detail-type': `v2.routing.queues.q1.conversations`, source: 'aws.partner/genesys.com/cloud/org/suffix',
      time: '2024-05-01T00:00:00Z', detail: { topicName: 'v2.routing.queues.q1.conversations', version: '2', eventBody: { id: CONV, participants: [] } },
    };
    assert.deepEqual(describeEvent(ev), { envelope: 'eventbridge', topicName: 'v2.routing.queues.q1.conversations', conversationId: CONV });
    const detailEvent = { 'detail-type': `v2.detail.events.conversation.${CONV}.acd.start`, source: 's', detail: { eventBody: { foo: 1 } } };
    assert.equal(describeEvent(detailEvent).conversationId, CONV, 'conversation id from the topic');
  });

  it('recognises a data action POST: a notification envelope or a bare conversation', () => {
    assert.deepEqual(describeEvent({ topicName: `v2.conversations.${CONV}`, eventBody: { state: 'x' } }), { envelope: 'notification', topicName: `v2.conversations.${CONV}`, conversationId: CONV });
    assert.deepEqual(describeEvent({ id: CONV, participants: [{ purpose: 'agent' }] }), { envelope: 'conversation', conversationId: CONV });
    assert.deepEqual(describeEvent({ conversationId: 'c9', type: 'chat' }), { envelope: 'conversation', conversationId: 'c9' });
    assert.deepEqual(describeEvent({ something: 'else' }), { envelope: 'unknown' });
  });
});
