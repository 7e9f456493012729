import { strict as assert } from 'node:assert';
import { compileFilter, parseFilter, validateFilter, FilterError } from '../../lib/ingest/filter';

const voice = { conversationId: 'c1', type: 'voice', state: 'connected', queue: { id: 'q1', name: 'Sales' }, agent: null, waitTimeMs: 1200 };
const chat = { conversationId: 'c2', type: 'chat', state: 'waiting', queue: null, waitTimeMs: 0 };

describe('push filter expressions (guide 000)', () => {
  it("evaluates the guide's example and the operators", () => {
    const f = compileFilter("type == 'voice' && queue.id != null");
    assert.equal(f(voice), true);
    assert.equal(f(chat), false);
    assert.equal(compileFilter('')(chat), true, 'empty filter matches everything');
    assert.equal(compileFilter("type == \"chat\" || (queue.id == 'q1' && waitTimeMs == 1200)")(voice), true);
    assert.equal(compileFilter("type == 'chat' || (queue.id == 'q1' && waitTimeMs == 5)")(voice), false);
    assert.equal(compileFilter('agent == null && queue != null')(voice), true);
    assert.equal(compileFilter('agent.id == null')(voice), true, 'a missing field is null');
    assert.equal(compileFilter("queue.name == 'O\\'Brien'")({ queue: { name: "O'Brien" } }), true, 'escaped quote');
    assert.equal(compileFilter('waitTimeMs != 0')(chat), false);
  });

  it('accepts valid filters', () => {
    for (const f of ["type == 'voice' && queue.id != null", "direction == 'inbound'", "customer.channelId != null || agent.name == 'Ann'", '((waitTimeMs == 0))']) {
      assert.deepEqual(validateFilter(f), { ok: true }, f);
    }
  });

  it('rejects unknown fields with a clear message', () => {
    const r = validateFilter("priority == 'high'");
    assert.ok(!r.ok);
    assert.match(r.error, /unknown field 'priority'.*suppress every event/);
    assert.equal(r.position, 0);
  });

  it("rejects nested paths that the realtime schema does not have (the guide's trap)", () => {
    for (const f of ["wrapUpCode.code == 'SALE'", "type == 'voice' && customer.phoneNumber != null"]) {
      const r = validateFilter(f);
      assert.ok(!r.ok, f);
      assert.match(r.error, /not a field of realtime:interaction events.*nested/, f);
    }
    const r = validateFilter("type == 'voice' && customer.phoneNumber != null");
    assert.ok(!r.ok);
    assert.equal(r.position, 19);
  });

  it('rejects syntax errors with the position', () => {
    const cases: [string, RegExp][] = [
      ["type == 'voice' &&", /ends too early/],
      ["type = 'voice'", /unsupported operator/],
      ["(type == 'voice'", /expected '\)'/],
      ["type == 'voice", /unterminated string/],
      ['type', /expected == or !=/],
      ["type == 'voice' queue.id != null", /unexpected 'queue.id'/],
      ["waitTimeMs > 5", /unsupported operator/],
      ["'a' == 'a'", /has no field/],
      ["type == #", /unexpected character/],
    ];
    for (const [f, re] of cases) {
      const r = validateFilter(f);
      assert.ok(!r.ok, f);
      assert.match(r.error, re, f);
    }
    assert.throws(() => parseFilter('type =='), FilterError);
  });

  it('rejects comparisons that can never match', () => {
    assert.match((validateFilter("type == 'phone'") as any).error, /one of voice, chat, email, sms/);
    assert.match((validateFilter("waitTimeMs == '5'") as any).error, /is a number/);
    assert.match((validateFilter('queue.id == 5') as any).error, /is text/);
    assert.match((validateFilter("queue == 'q1'") as any).error, /is an object/);
  });
});
