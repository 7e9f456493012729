// Memory dedup store and key rules.
import * as assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileKey, createDedupStore, MemoryDedupStore, parsePath } from '../../lib/events/dedup';
import { goldenCases } from './golden-cases';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A full GC before heap readings, so garbage from the loop (or earlier tests) is not counted. */
function forceGc(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

describe('dedup: memory store', () => {
  it('first sight is unique, a repeat within the window a duplicate, and after the window unique again', async () => {
    const store = new MemoryDedupStore({ windowMs: 80, maxEntries: 100 });
    assert.equal((await store.claim('a')).outcome, 'unique');
    assert.equal((await store.claim('a')).outcome, 'duplicate');
    assert.equal((await store.claim('b')).outcome, 'unique');
    await sleep(120);
    assert.equal((await store.claim('a')).outcome, 'unique');
    assert.equal((await store.claim('a')).outcome, 'duplicate');
    await store.close();
  });

  it('the window counts from first sight: duplicates do not extend it', async () => {
    const store = new MemoryDedupStore({ windowMs: 100, maxEntries: 100 });
    store.claimSync('k');
    await sleep(60);
    assert.equal(store.claimSync('k'), false);
    await sleep(60);
    assert.equal(store.claimSync('k'), true);
  });

  it('stays within its bound under 1,000,000 distinct keys and counts premature evictions', () => {
    const max = 20_000;
    const store = new MemoryDedupStore({ windowMs: 300_000, maxEntries: max });
    forceGc();
    const heapBefore = process.memoryUsage().heapUsed;
    let unique = 0;
    for (let i = 0; i < 1_000_000; i++) {
      if (store.claimSync(`00000000-0000-4000-8000-${i.toString().padStart(12, '0')}:${1714557600000 + i}`)) unique++;
      if (i % 100_000 === 0) assert.ok(store.size <= max);
    }
    assert.equal(unique, 1_000_000);
    assert.equal(store.size, max);
    assert.equal(store.prematureEvictions, 1_000_000 - max);
    forceGc();
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    // 20,000 keys of ~50 chars are a few MB; 1,000,000 would be well over 100 MB.
    assert.ok(grownMb < 60, `heap grew by ${grownMb.toFixed(1)} MB`);
    // The newest keys are still known; the oldest were evicted (they would pass again, never be lost).
    assert.equal(store.claimSync(`00000000-0000-4000-8000-${(999_999).toString().padStart(12, '0')}:${1714557600000 + 999_999}`), false);
    assert.equal(store.claimSync(`00000000-0000-4000-8000-${'0'.padStart(12, '0')}:1714557600000`), true);
  });

  it('claims leave in the order they were made: expired ones are forgotten, released ones can be claimed again', async () => {
    const store = new MemoryDedupStore({ windowMs: 60, maxEntries: 3 });
    assert.equal(store.tryClaim('a', 'pending'), undefined);
    assert.equal(store.releaseSync('a'), true, 'a pending claim is released');
    assert.equal(store.tryClaim('a', 'pending'), undefined, 'and the key can be claimed again');
    store.claimSync('b');
    store.claimSync('c');
    assert.equal(store.size, 3);
    store.claimSync('d'); // full: the oldest live claim (a, re-claimed) goes, not the released copy
    assert.equal(store.prematureEvictions, 1);
    assert.equal(store.state('a'), undefined);
    assert.deepEqual(['b', 'c', 'd'].map((k) => store.state(k)), ['stored', 'stored', 'stored']);
    await sleep(80);
    assert.equal(store.size, 0, 'every window closed');
    store.claimSync('e');
    assert.equal(store.prematureEvictions, 1, 'claims whose window closed are not premature evictions');
    assert.equal(store.claimSync('b'), true, 'b passes again after its window');
  });

  it('createDedupStore validates its configuration', () => {
    assert.throws(() => createDedupStore({ store: 'memory', windowSeconds: 0, maxEntries: 10 }), /window/);
    assert.throws(() => createDedupStore({ store: 'redis', windowSeconds: 1, maxEntries: 10 }), /Redis URL/);
    assert.equal(createDedupStore({ store: 'memory', windowSeconds: 0.05, maxEntries: 10 }).kind, 'memory');
  });
});

describe('dedup: key rules', () => {
  it('auto: event_id:sequence of a normalized event, and the same key derived from the raw source event', () => {
    const key = compileKey('auto');
    assert.equal(key({ payload: { event_id: 'e1', sequence: 7, state: 'queued' } }), 'e1:7');
    const push = goldenCases().find((c) => c.name === 'push-voice-connected')!;
    assert.equal(key({ payload: push.input, genesys: push.genesys }), 'evt-push-1:3');
    const notif = goldenCases().find((c) => c.name === 'notification-queue-voice-queued')!;
    assert.equal(key({ payload: notif.input, genesys: notif.genesys }), `${notif.expected!.event_id}:1714557600000`);
    assert.equal(key({ payload: 'not an object' }), undefined);
    assert.equal(key({ payload: { something: 'else' } }), undefined);
    assert.equal(key({}), undefined);
  });

  it('path: a property path on msg, with array indexes and quotes', () => {
    assert.deepEqual(parsePath("msg.payload.a[0]['b c'].d"), ['payload', 'a', '0', 'b c', 'd']);
    const key = compileKey('path', 'payload.metadata.eventId');
    assert.equal(key({ payload: { metadata: { eventId: 'x-1' } } }), 'x-1');
    assert.equal(key({ payload: { metadata: { eventId: 12 } } }), '12');
    assert.equal(key({ payload: { metadata: {} } }), undefined);
    assert.equal(key({ payload: { metadata: { eventId: { nested: 1 } } } }), undefined);
    assert.equal(key({ payload: null }), undefined);
    assert.throws(() => compileKey('path', '  '), /empty/);
  });

  it('template: {{path}} placeholders; any missing part means no key', () => {
    const key = compileKey('template', '{{payload.data.conversationId}}:{{ payload.metadata.sequence }}');
    assert.equal(key({ payload: { data: { conversationId: 'c1' }, metadata: { sequence: 4 } } }), 'c1:4');
    assert.equal(key({ payload: { data: { conversationId: 'c1' }, metadata: {} } }), undefined);
    assert.throws(() => compileKey('template', 'no placeholders'), /placeholder/);
    assert.throws(() => compileKey('bogus' as any), /unknown key mode/);
  });
});
