import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeadLetterSpool, SpoolFullError } from '../../lib/kafka/spool';
import type { OutgoingRecord } from '../../lib/kafka/record-sink';

const rec = (i: number, extra: Partial<OutgoingRecord> = {}): OutgoingRecord => ({
  topic: 'genesys.dlq', key: `conv-${i % 7}`, value: Buffer.from(JSON.stringify({ i })), headers: { 'dlq.reason': 'transport', bin: Buffer.from([0, 1, 255]) }, timestamp: 1700000000000 + i, ...extra,
});

describe('dlq spool (local append-only file)', () => {
  let dir: string;
  const open: DeadLetterSpool[] = [];
  const openSpool = async (opts: Partial<Parameters<typeof DeadLetterSpool.open>[0]> = {}): Promise<DeadLetterSpool> => {
    const s = await DeadLetterSpool.open({ dir, ...opts });
    open.push(s);
    return s;
  };
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlq-spool-')); });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('group-commits concurrent appends, survives a reopen and drains in order with every field intact', async () => {
    const s = await openSpool();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.append(rec(i))));
    assert.equal(s.depth, 1000);
    assert.ok(s.syncs < 100, `expected group commit, got ${s.syncs} fsyncs for 1000 appends`);
    await s.close();
    const again = await openSpool();
    assert.equal(again.depth, 1000);
    const got: OutgoingRecord[] = [];
    const n = await again.drain(async (batch) => { got.push(...batch); }, { maxBatch: 128 });
    assert.equal(n, 1000);
    assert.equal(again.depth, 0);
    assert.deepEqual(got.map((r) => JSON.parse(String(r.value)).i), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(got[5], rec(5));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('seg-')), [], 'drained segments are removed');
    await again.close();
    assert.equal((await openSpool()).depth, 0);
  });

  it('keeps the cursor where the broker stopped acknowledging: nothing lost, order kept, no resend of acked batches', async () => {
    const s = await openSpool({ segmentBytes: 4096 });
    for (let i = 0; i < 300; i++) await s.append(rec(i));
    assert.ok(fs.readdirSync(dir).filter((f) => f.startsWith('seg-')).length > 3, 'several segments');
    const got: number[] = [];
    let calls = 0;
    await assert.rejects(s.drain(async (batch) => {
      if (++calls === 3) throw new Error('KafkaJSConnectionError: Connection error: connect ECONNREFUSED');
      got.push(...batch.map((r) => JSON.parse(String(r.value)).i));
    }, { maxBatch: 50 }), /ECONNREFUSED/);
    const acked = got.length;
    assert.ok(acked >= 2 && acked <= 100, `two batches acked (${acked})`);
    assert.equal(s.depth, 300 - acked);
    await s.close();
    const again = await openSpool({ segmentBytes: 4096 });
    assert.equal(again.depth, 300 - acked);
    await again.drain(async (batch) => { got.push(...batch.map((r) => JSON.parse(String(r.value)).i)); }, { maxBatch: 50 });
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i));
  });

  it('accepts appends while draining and delivers them after the older records', async () => {
    const s = await openSpool();
    for (let i = 0; i < 100; i++) await s.append(rec(i));
    const got: number[] = [];
    let next = 100;
    await s.drain(async (batch) => {
      got.push(...batch.map((r) => JSON.parse(String(r.value)).i));
      if (next < 150) await Promise.all(Array.from({ length: 10 }, () => s.append(rec(next++))));
    }, { maxBatch: 20 });
    assert.deepEqual(got, Array.from({ length: 150 }, (_, i) => i));
    assert.equal(s.depth, 0);
  });

  it('rejects with a clear SpoolFullError when the bound is reached, and accepts again after a drain', async () => {
    const s = await openSpool({ maxBytes: 2000 });
    let stored = 0;
    let full: unknown;
    for (let i = 0; i < 100 && !full; i++) {
      try { await s.append(rec(i)); stored++; } catch (err) { full = err; }
    }
    assert.ok(full instanceof SpoolFullError);
    assert.match((full as Error).message, /DLQ spool full: \d+ dead letters \(\d+ of 2000 bytes\).*NOT spooled/);
    assert.equal(s.depth, stored);
    await s.drain(async () => undefined);
    await s.append(rec(999));
    assert.equal(s.depth, 1);
  });

  it('cuts a torn tail left by a crash and moves a corrupted line to corrupt.log instead of losing the rest', async () => {
    const s = await openSpool();
    for (let i = 0; i < 5; i++) await s.append(rec(i));
    await s.close();
    const seg = path.join(dir, fs.readdirSync(dir).find((f) => f.startsWith('seg-'))!);
    const lines = fs.readFileSync(seg, 'utf8').split('\n');
    lines[2] = lines[2].replace('"topic"', '"tOpic"').replace('genesys.dlq', 'genesys.dlX');
    fs.writeFileSync(seg, lines.join('\n') + '0123456789abcdef {"t":"genesys.dlq","k":nu');
    const again = await openSpool();
    assert.equal(again.depth, 5, 'torn tail cut; the corrupt line still counts until quarantined');
    const got: number[] = [];
    await again.drain(async (b) => { got.push(...b.map((r) => JSON.parse(String(r.value)).i)); });
    assert.deepEqual(got, [0, 1, 3, 4]);
    assert.equal(again.corrupted, 1);
    assert.match(fs.readFileSync(path.join(dir, 'corrupt.log'), 'utf8'), /checksum mismatch/);
  });

  it('refuses a second owner of the same folder with a clear error', async () => {
    await openSpool();
    await assert.rejects(DeadLetterSpool.open({ dir }), /already used by another dlq node/);
  });
});
