// The ingest audit trail: one JSON line per batch (AuditRecord) appended to a file that rotates by
// size (file → file.1 → … → file.N, the oldest dropped), so a long-running sink cannot fill the disk.
// Lines are written in order by one chain of appends; a write error is reported, never thrown at
// the sender (an audit problem must not fail events that Genesys accepted).
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditRecord } from './types';

export interface AuditFileOptions {
  file: string;
  /** Rotate when the next line would take the file past this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept beside the current one. Default 5. */
  keep?: number;
}

/** Events: 'error' (Error) when a write or rotation failed. */
export class AuditFile extends EventEmitter {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private handle: fs.promises.FileHandle | null = null;
  private size = 0;
  private buffered: string[] = [];
  private tail: Promise<void> = Promise.resolve();
  private writing = false;
  private closed = false;

  constructor(o: AuditFileOptions) {
    super();
    this.file = path.resolve(o.file);
    this.maxBytes = Math.max(1024, o.maxBytes ?? 10 * 1024 * 1024);
    this.keep = Math.max(1, Math.floor(o.keep ?? 5));
  }

  write(rec: AuditRecord): void {
    if (this.closed) return;
    this.buffered.push(JSON.stringify(rec) + '\n');
    // Lines written while a write is under way go out together in the next one.
    if (!this.writing) { this.writing = true; this.tail = this.tail.then(() => this.flushBuffered()); }
  }

  /** Resolves once every line written so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.tail;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    const h = this.handle;
    this.handle = null;
    if (h) await h.close().catch(() => undefined);
  }

  private async flushBuffered(): Promise<void> {
    while (this.buffered.length) {
      const lines = this.buffered.splice(0);
      try {
        for (const chunk of this.chunks(lines)) {
          const bytes = Buffer.byteLength(chunk);
          await this.open();
          if (this.size > 0 && this.size + bytes > this.maxBytes) await this.rotate();
          await this.handle!.write(chunk);
          this.size += bytes;
        }
      } catch (err) {
        this.emit('error', err);
      }
    }
    this.writing = false;
  }

  /** Groups lines so that a rotation can fall between them, never inside one. */
  private *chunks(lines: string[]): Generator<string> {
    let chunk = '';
    let room = this.maxBytes - this.size;
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (chunk && n > room) { yield chunk; chunk = ''; room = this.maxBytes; }
      chunk += line;
      room -= n;
    }
    if (chunk) yield chunk;
  }

  private async open(): Promise<void> {
    if (this.handle) return;
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    this.handle = await fs.promises.open(this.file, 'a', 0o640);
    this.size = (await this.handle.stat()).size;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    await fs.promises.rm(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) await renameIfExists(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    await renameIfExists(this.file, `${this.file}.1`);
    await this.open();
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
