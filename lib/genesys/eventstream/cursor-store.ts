// Where a poller keeps its position so a restart resumes without a gap and without replaying.
// The poller saves only after the events of a page were handed off (see poller.ts), so the
// position on disk never runs ahead of what was emitted.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export interface CursorStore<T> {
  /** The saved position, or undefined when there is none yet. Throws when it exists but is unreadable. */
  load(): Promise<T | undefined>;
  save(value: T): Promise<void>;
}

/**
 * One JSON file, replaced atomically: write a temp file beside it, fsync, rename over the old one,
 * fsync the directory. A crash leaves either the old or the new position, never a torn file.
 */
export class FileCursorStore<T> implements CursorStore<T> {
  private chain: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(readonly file: string) {}

  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      // Starting over would replay or skip the stream: make the operator decide.
      throw new Error(`cursor file ${this.file} is not valid JSON; fix or delete it to start from the oldest retained event`);
    }
  }

  /** Saves are serialised: concurrent callers land in call order, the last one wins. */
  save(value: T): Promise<void> {
    let text: string;
    try { text = JSON.stringify(value); } catch (err) { return Promise.reject(err); }
    const run = this.chain.then(() => this.write(text));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(text: string): Promise<void> {
    const dir = path.dirname(this.file);
    await fsp.mkdir(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${this.seq++}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fsp.rename(tmp, this.file);
    } catch (err) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
    // The rename itself is durable only once the directory entry is flushed (not possible on Windows).
    const dh = await fsp.open(dir, 'r').catch(() => null);
    if (dh) { await dh.sync().catch(() => undefined); await dh.close(); }
  }
}

/**
 * A store backed by get/set callbacks: the node passes Node-RED context (node.context() with a
 * persistent store such as localfilesystem). Durability is that store's: localfilesystem flushes
 * to disk every 30 s by default, so a crash may replay up to that much (never skip).
 */
export class CallbackCursorStore<T> implements CursorStore<T> {
  constructor(private readonly get: () => Promise<T | undefined>, private readonly set: (value: T) => Promise<void>) {}
  load(): Promise<T | undefined> { return this.get(); }
  save(value: T): Promise<void> { return this.set(value); }
}

/** Keeps the position in memory only: a restart starts from the oldest retained event. */
export class MemoryCursorStore<T> implements CursorStore<T> {
  constructor(public value?: T) {}
  async load(): Promise<T | undefined> { return this.value; }
  async save(value: T): Promise<void> { this.value = value; }
}
