import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallbackCursorStore, FileCursorStore } from '../../lib/genesys/eventstream/cursor-store';

describe('cursor stores', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cursor-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('file store: missing file is no position; saves land atomically in call order with no temp files left', async () => {
    const store = new FileCursorStore<{ n: number }>(path.join(dir, 'sub', 'pos.json'));
    assert.equal(await store.load(), undefined);
    await Promise.all(Array.from({ length: 20 }, (_, n) => store.save({ n })));
    assert.deepEqual(await store.load(), { n: 19 });
    assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), ['pos.json']);
  });

  it('file store: an unreadable file is an error, not a silent restart', async () => {
    const file = path.join(dir, 'pos.json');
    fs.writeFileSync(file, '{"cursor": "abc"'); // torn write from some other tool
    await assert.rejects(new FileCursorStore(file).load(), /not valid JSON/);
  });

  it('file store: a failed save leaves the previous position intact', async () => {
    const file = path.join(dir, 'pos.json');
    const store = new FileCursorStore<unknown>(file);
    await store.save({ cursor: 'one' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(store.save(circular), /circular/i);
    assert.deepEqual(await store.load(), { cursor: 'one' });
    // A directory squatting on the temp name makes the write itself fail.
    const blocked = new FileCursorStore<unknown>(path.join(dir, 'blocked.json'));
    await blocked.save({ cursor: 'one' });
    fs.mkdirSync(path.join(dir, `blocked.json.${process.pid}.1.tmp`));
    await assert.rejects(blocked.save({ cursor: 'two' }));
    assert.deepEqual(await blocked.load(), { cursor: 'one' });
    await store.save({ cursor: 'three' });
    assert.deepEqual(await store.load(), { cursor: 'three' });
  });

  it('callback store delegates to the given functions (Node-RED context)', async () => {
    const ctx = new Map<string, unknown>();
    const store = new CallbackCursorStore<{ c: string }>(async () => ctx.get('k') as { c: string } | undefined, async (v) => { ctx.set('k', v); });
    assert.equal(await store.load(), undefined);
    await store.save({ c: 'x' });
    assert.deepEqual(await store.load(), { c: 'x' });
  });
});
