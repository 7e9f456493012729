// normalize node through node-red-node-test-helper: outputs, the raw output, bad input, Catch.
import * as assert from 'node:assert/strict';
import { goldenCases } from './golden-cases';
const helper: any = require('node-red-node-test-helper'); // ships no type declarations
const normalizeNode = require('../../nodes/normalize/normalize');

helper.init(require.resolve('node-red'));

const at = (n: any): any => ({ x: 100, y: 100, z: 'tab', ...n });
const flow = (extra: Record<string, unknown> = {}, wires: string[][] = [['ok'], ['failed']]): any[] => [
  { id: 'tab', type: 'tab', label: 'normalize' },
  at({ id: 'n', type: 'normalize', name: 'n', shape: 'auto', rawOutput: false, wires, ...extra }),
  at({ id: 'ok', type: 'helper' }),
  at({ id: 'failed', type: 'helper' }),
  at({ id: 'raw', type: 'helper' }),
  at({ id: 'catch', type: 'catch', scope: ['n'], uncaught: false, wires: [['caught']] }),
  at({ id: 'caught', type: 'helper' }),
];

const collect = (id: string): any[] => {
  const got: any[] = [];
  helper.getNode(id).on('input', (m: any) => got.push(m));
  return got;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) { if (Date.now() > deadline) throw new Error('timed out'); await sleep(10); }
}

describe('normalize node', () => {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  const push = goldenCases().find((c) => c.name === 'push-voice-connected')!;

  it('sends the normalized event with msg.key = conversation id and keeps msg.genesys', async () => {
    await helper.load(normalizeNode, flow());
    const ok = collect('ok');
    const failed = collect('failed');
    const genesys = { ...push.genesys, deliveryId: 'd-1.0' };
    helper.getNode('n').receive({ payload: push.input, genesys, topic: 'v2.x' });
    await until(() => ok.length === 1);
    const m = ok[0];
    assert.equal(m.key, 'conv-push-1');
    assert.deepEqual(m.genesys, genesys);
    assert.equal(m.topic, 'v2.x');
    const { raw_payload: raw, ...rest } = m.payload;
    assert.deepEqual(rest, push.expected);
    assert.deepEqual(raw, push.input);
    assert.equal(failed.length, 0);
  });

  it('optionally sends the untouched raw event on output 3 with the same key', async () => {
    await helper.load(normalizeNode, flow({ rawOutput: true }, [['ok'], ['failed'], ['raw']]));
    const ok = collect('ok');
    const raw = collect('raw');
    helper.getNode('n').receive({ payload: push.input, genesys: push.genesys });
    await until(() => ok.length === 1 && raw.length === 1);
    assert.deepEqual(raw[0].payload, push.input);
    assert.equal(raw[0].key, 'conv-push-1');
    assert.deepEqual(raw[0].genesys, push.genesys);
    assert.equal(ok[0].payload.event_id, 'evt-push-1');
  });

  it('sends the raw copy of an event that fails validation too (raw staging keeps everything received)', async () => {
    await helper.load(normalizeNode, flow({ rawOutput: true }, [['ok'], ['failed'], ['raw']]));
    const failed = collect('failed');
    const raw = collect('raw');
    const bad = goldenCases().find((c) => c.name === 'push-missing-timestamp')!;
    helper.getNode('n').receive({ payload: bad.input, key: 'k-bad', genesys: push.genesys });
    await until(() => failed.length === 1 && raw.length === 1);
    assert.deepEqual(raw[0].payload, bad.input);
    assert.equal(raw[0].key, 'k-bad');
    assert.equal(raw[0].error, undefined);
    assert.ok(failed[0].error.path);
  });

  it('bad input goes to the error output with a reason and path, never a crash or a drop', async () => {
    await helper.load(normalizeNode, flow());
    const ok = collect('ok');
    const failed = collect('failed');
    const n = helper.getNode('n');
    const missingTimestamp = goldenCases().find((c) => c.name === 'push-missing-timestamp')!;
    const inputs: [unknown, string, string][] = [
      ['a string', 'not-an-object', ''],
      [42, 'not-an-object', ''],
      [null, 'not-an-object', ''],
      [undefined, 'not-an-object', ''],
      [[push.input], 'not-an-object', ''],
      [Buffer.from('{}'), 'not-an-object', ''],
      [{ hello: 'world' }, 'unknown-shape', ''],
      [{ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } }, 'unsupported', ''],
      [missingTimestamp.input, 'schema', '/timestamp'],
      [{ data: { conversationId: 'c', type: 'fax', state: 'connected', timestamp: '2024-05-01T10:00:00Z' }, metadata: { eventId: 'e', sequence: 1 } }, 'schema', '/interaction_type'],
      [{ data: { conversationId: 'c', type: 'voice', state: 'connected', timestamp: 'yesterday' }, metadata: { eventId: 'e', sequence: 1 } }, 'schema', '/timestamp'],
      [{ data: { conversationId: 'c', type: 'voice', state: 'connected', timestamp: '2024-05-01T10:00:00Z', waitTimeMs: '12' }, metadata: { eventId: 'e', sequence: 1 } }, 'schema', '/wait_time_ms'],
    ];
    for (const [payload] of inputs) n.receive({ payload, genesys: { source: 'webhook', receivedAt: '2024-05-01T10:00:00.000Z' } });
    await until(() => failed.length === inputs.length);
    assert.equal(ok.length, 0);
    inputs.forEach(([payload, code, path], i) => {
      const e = failed[i].error;
      assert.equal(e.reason, 'validation', `#${i}`);
      assert.equal(e.code, code, `#${i}: ${e.message}`);
      assert.equal(e.path, path, `#${i}: ${e.message}`);
      assert.equal(e.source.type, 'normalize');
      assert.ok(typeof e.message === 'string' && e.message.length > 0);
      if (payload !== undefined && !Buffer.isBuffer(payload)) assert.deepEqual(failed[i].payload, payload, 'the original payload travels with the error');
    });
    assert.match(failed[8].error.message, /timestamp comes from data\.timestamp/);
  });

  it('with nothing wired to the error output, failures reach a Catch node', async () => {
    await helper.load(normalizeNode, flow({}, [['ok'], []]));
    const caught = collect('caught');
    helper.getNode('n').receive({ payload: 'nope' });
    await until(() => caught.length === 1);
    assert.match(caught[0].error.message, /payload must be an event object/);
    assert.equal(caught[0].error.source.type, 'normalize');
    assert.equal(caught[0].payload, 'nope');
  });

  it('counts normalized and failed events in its status (throttled)', async () => {
    await helper.load(normalizeNode, flow());
    const n = helper.getNode('n');
    const failed = collect('failed');
    n.receive({ payload: push.input });
    n.receive({ payload: push.input });
    n.receive({ payload: 7 });
    await until(() => failed.length === 1);
    const own = () => n.status.getCalls().filter((c: any) => c.thisValue === n);
    await until(() => own().length > 0, 2500);
    const last = own().pop().args[0];
    assert.equal(last.fill, 'yellow');
    assert.equal(last.text, 'normalize.status.countsFailed');
  });
});
