// Local append-only spool for dead letters while Kafka is unreachable. A dead letter counts as
// safe (the dlq node calls done()) once it is fsynced here; it leaves the spool only after the
// broker acknowledged it. Layout in `dir`:
//   seg-<seq>.log   JSON lines with checksums (spool-format.ts), appended in order, rolled by size
//   cursor.json     {segment, offset}: everything before it is acknowledged by Kafka
//   corrupt.log     lines that failed their checksum (kept for an operator, never silently lost)
//   lock            pid of the process that owns the spool
// Appends are group-committed: what arrives while one fdatasync runs shares the next one.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OutgoingRecord } from './record-sink';
import { decodeSpoolLine, encodeSpoolLine, splitLines } from './spool-format';
import { acquireSpoolLock, appendDurable, readAt, releaseSpoolLock, syncDir, writeCursor, type SpoolCursor } from './spool-files';
import { recoverSpool, segmentName, type SpoolSegment } from './spool-recovery';

export interface SpoolOptions {
  dir: string;
  /** Bound on undelivered bytes on disk (default 256 MiB); append() rejects with SpoolFullError beyond it. */
  maxBytes?: number;
  /** Segment size before rolling to a new file (default 16 MiB). */
  segmentBytes?: number;
  /** Extra wait to gather appends into one fsync (default 0: batch only what arrives during an fsync). */
  groupCommitMs?: number;
}

export class SpoolFullError extends Error {
  readonly code = 'DLQ_SPOOL_FULL';
  constructor(readonly dir: string, readonly bytes: number, readonly maxBytes: number, readonly records: number) {
    super(`DLQ spool full: ${records} dead letters (${bytes} of ${maxBytes} bytes) wait in ${dir} for Kafka; ` +
      'the message was NOT spooled. Restore the Kafka connection or raise the spool size.');
    this.name = 'SpoolFullError';
  }
}

type Segment = SpoolSegment;
interface Pending { line: Buffer; resolve: () => void; reject: (e: Error) => void }

export interface DrainOptions {
  /** Records per send() call (default 500). */
  maxBatch?: number;
  /** Bytes read from disk per step (default 1 MiB). */
  chunkBytes?: number;
}


export class DeadLetterSpool extends EventEmitter {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly groupCommitMs: number;
  private segments: Segment[] = [];
  private cursor: SpoolCursor = { segment: 1, offset: 0 };
  private records = 0;
  private undeliveredBytes = 0;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private writeFd: fs.promises.FileHandle | null = null;
  private io: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private draining: Promise<number> | null = null;
  private closed = false;
  /** Lines moved to corrupt.log since open. */
  corrupted = 0;
  /** fdatasync calls since open (group commit makes this far smaller than the appends). */
  syncs = 0;

  private constructor(opts: SpoolOptions) {
    super();
    this.dir = path.resolve(opts.dir);
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.groupCommitMs = opts.groupCommitMs ?? 0;
  }

  /** Opens (creating or recovering) the spool in opts.dir; undelivered records from a previous run are kept. */
  static async open(opts: SpoolOptions): Promise<DeadLetterSpool> {
    const spool = new DeadLetterSpool(opts);
    await fs.promises.mkdir(spool.dir, { recursive: true });
    await acquireSpoolLock(spool.dir);
    try {
      await spool.recover();
    } catch (err) {
      await releaseSpoolLock(spool.dir);
      throw err;
    }
    return spool;
  }

  /** Undelivered records on disk. */
  get depth(): number { return this.records; }
  /** Undelivered bytes on disk. */
  get bytes(): number { return this.undeliveredBytes; }
  get capacity(): number { return this.maxBytes; }
  get isEmpty(): boolean { return this.records === 0 && this.queuedBytes === 0; }
  get isDraining(): boolean { return this.draining !== null; }

  /** Appends a record; resolves after it is fsynced. Rejects with SpoolFullError when the bound is reached. */
  append(record: OutgoingRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`DLQ spool ${this.dir} is closed`));
    const line = encodeSpoolLine(record);
    if (this.undeliveredBytes + this.queuedBytes + line.length > this.maxBytes) {
      return Promise.reject(new SpoolFullError(this.dir, this.undeliveredBytes + this.queuedBytes, this.maxBytes, this.records + this.queue.length));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.queuedBytes += line.length;
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.enqueueIo(async () => {
      if (this.groupCommitMs > 0) await new Promise((r) => setTimeout(r, this.groupCommitMs));
      this.flushScheduled = false;
      await this.writeQueued();
    });
  }

  private enqueueIo<T>(op: () => Promise<T>): Promise<T> {
    const run = this.io.then(op);
    this.io = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Writes everything queued as one write + one fdatasync per segment touched. */
  private async writeQueued(): Promise<void> {
    const batch = this.queue.splice(0);
    // queuedBytes keeps counting this batch until it is on disk, so the size bound holds meanwhile.
    let i = 0;
    try {
      while (i < batch.length) {
        let seg = this.segments[this.segments.length - 1];
        if (!seg || !this.writeFd || (seg.size > 0 && seg.size + batch[i].line.length > this.segmentBytes)) seg = await this.roll();
        let bytes = 0;
        let j = i;
        while (j < batch.length && (j === i || seg.size + bytes + batch[j].line.length <= this.segmentBytes)) bytes += batch[j++].line.length;
        const chunk = Buffer.concat(batch.slice(i, j).map((p) => p.line), bytes);
        try {
          await this.writeFd!.write(chunk, 0, chunk.length, null);
          await this.writeFd!.datasync();
          this.syncs++;
        } catch (err) {
          // Leave no half-written batch behind: its callers are told it failed.
          await this.writeFd!.truncate(seg.size).catch(() => undefined);
          throw err;
        }
        seg.size += bytes;
        this.records += j - i;
        this.undeliveredBytes += bytes;
        this.queuedBytes -= bytes;
        for (let k = i; k < j; k++) batch[k].resolve();
        i = j;
      }
    } catch (err) {
      const e = new Error(`DLQ spool write failed in ${this.dir}: ${(err as Error).message}`);
      for (let k = i; k < batch.length; k++) {
        this.queuedBytes -= batch[k].line.length;
        batch[k].reject(e);
      }
    }
    this.emit('change');
  }

  /** Starts a new segment file (fsyncing the directory so the file survives a crash). */
  private async roll(): Promise<Segment> {
    await this.writeFd?.close().catch(() => undefined);
    this.writeFd = null;
    const last = this.segments[this.segments.length - 1];
    const seq = last ? last.seq + 1 : this.cursor.segment;
    const seg: Segment = { seq, file: path.join(this.dir, segmentName(seq)), size: 0 };
    this.writeFd = await fs.promises.open(seg.file, 'a');
    await syncDir(this.dir);
    this.segments.push(seg);
    return seg;
  }

  /**
   * Sends undelivered records to Kafka in order, `maxBatch` per call of `send`, and moves the
   * cursor after each acknowledged batch. Rejects with send's error (the cursor stays put).
   * Resolves with the number of records delivered once the spool is empty.
   */
  drain(send: (records: OutgoingRecord[]) => Promise<unknown>, opts: DrainOptions = {}): Promise<number> {
    if (!this.draining) {
      this.draining = this.drainLoop(send, opts).finally(() => { this.draining = null; this.emit('change'); });
      this.emit('change');
    }
    return this.draining;
  }

  private async drainLoop(send: (records: OutgoingRecord[]) => Promise<unknown>, opts: DrainOptions): Promise<number> {
    const maxBatch = opts.maxBatch ?? 500;
    let chunkBytes = opts.chunkBytes ?? 1024 * 1024;
    let delivered = 0;
    while (!this.closed) {
      if (this.queue.length > 0 || this.flushScheduled) await this.io; // let queued appends land first
      const seg = this.segments[0];
      if (!seg) return delivered;
      const offset = this.cursor.segment === seg.seq ? this.cursor.offset : 0;
      if (offset >= seg.size) {
        await this.retireSegment(seg); // 'busy' means newer appends landed: read on
        continue;
      }
      const want = Math.min(seg.size - offset, chunkBytes);
      const chunk = await readAt(seg.file, offset, want);
      const { lines } = splitLines(chunk, offset);
      if (lines.length === 0) {
        if (want < seg.size - offset) { chunkBytes *= 2; continue; } // one line larger than a chunk
        throw new Error(`DLQ spool segment ${seg.file} ends without a newline at ${offset}`);
      }
      const records: OutgoingRecord[] = [];
      let end = offset;
      let bytes = 0;
      for (const l of lines.slice(0, maxBatch)) {
        const d = decodeSpoolLine(l.text);
        if (d.ok) records.push(d.record);
        else await this.quarantine(l.text, `${seg.file}@${l.end - l.bytes}: ${d.error}`);
        end = l.end;
        bytes += l.bytes;
      }
      if (records.length > 0) await send(records);
      await this.commit({ segment: seg.seq, offset: end }, Math.min(lines.length, maxBatch), bytes);
      delivered += records.length;
      this.emit('drained', records.length);
    }
    return delivered;
  }

  private async commit(cursor: SpoolCursor, lines: number, bytes: number): Promise<void> {
    // After close() a new owner may hold the spool: a late ack must not move its cursor
    // (the batch is sent again later: a duplicate with the same dlq.id, never a loss).
    if (this.closed) return;
    await writeCursor(this.dir, cursor);
    this.cursor = cursor;
    this.records -= lines;
    this.undeliveredBytes -= bytes;
    this.emit('change');
  }

  /** Deletes a fully delivered segment; the active one only when no append is pending. */
  private retireSegment(seg: Segment): Promise<'retired' | 'busy'> {
    return this.enqueueIo(async () => {
      const isActive = this.segments[this.segments.length - 1] === seg;
      if (this.closed || (isActive && (this.queue.length > 0 || seg.size > this.cursorOffsetFor(seg)))) return 'busy';
      if (isActive) {
        await this.writeFd?.close().catch(() => undefined);
        this.writeFd = null;
      }
      const next = this.segments[1]?.seq ?? seg.seq + 1;
      await writeCursor(this.dir, { segment: next, offset: 0 });
      this.cursor = { segment: next, offset: 0 };
      await fs.promises.rm(seg.file, { force: true });
      this.segments.shift();
      return 'retired';
    });
  }

  private cursorOffsetFor(seg: Segment): number {
    return this.cursor.segment === seg.seq ? this.cursor.offset : 0;
  }

  private async quarantine(text: string, where: string): Promise<void> {
    await appendDurable(path.join(this.dir, 'corrupt.log'), `# ${new Date().toISOString()} ${where}\n${text}\n`);
    this.corrupted++;
    this.emit('corrupt', where);
  }

  /**
   * Keeps a record Kafka refuses for good (too large, invalid) in rejected.log, fsynced, in the
   * spool's line format, so that it is neither lost nor blocking the records behind it.
   */
  async reject(record: OutgoingRecord, why: string): Promise<void> {
    const note = `# ${new Date().toISOString()} ${why.replace(/\s+/g, ' ')}\n`;
    await appendDurable(path.join(this.dir, 'rejected.log'), Buffer.concat([Buffer.from(note), encodeSpoolLine(record)]));
    this.emit('rejected', why);
  }

  /** Rebuilds the state from disk (spool-recovery.ts) and reopens the last segment for appends. */
  private async recover(): Promise<void> {
    const r = await recoverSpool(this.dir);
    this.segments = r.segments;
    this.cursor = r.cursor;
    this.records = r.records;
    this.undeliveredBytes = r.bytes;
    for (const t of r.truncated) this.emit('truncated', t);
    const last = this.segments[this.segments.length - 1];
    if (last && last.size < this.segmentBytes) this.writeFd = await fs.promises.open(last.file, 'a');
  }

  /**
   * Flushes pending appends, stops draining, closes files and releases the lock. An in-flight
   * drain batch is waited for up to `drainWaitMs`; if its ack comes later it is not recorded.
   */
  async close(drainWaitMs = 2000): Promise<void> {
    if (this.closed) return;
    await this.io;
    this.closed = true;
    if (this.draining) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.draining.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, drainWaitMs); })]);
      clearTimeout(timer);
    }
    await this.io;
    await this.writeFd?.close().catch(() => undefined);
    this.writeFd = null;
    await releaseSpoolLock(this.dir);
  }
}
