// Durable small-file helpers for the spool: the cursor (atomic replace) and the owner lock.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SpoolCursor {
  /** Segment sequence number the next undelivered record is in. */
  segment: number;
  /** Byte offset in that segment of the next undelivered record. */
  offset: number;
}

/** fsyncs a directory so that a created, renamed or removed entry survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await fs.promises.open(dir, 'r');
  try { await fd.sync(); } catch { /* some filesystems refuse fsync on directories */ } finally { await fd.close(); }
}

export async function readCursor(dir: string): Promise<SpoolCursor | null> {
  try {
    const c = JSON.parse(await fs.promises.readFile(path.join(dir, 'cursor.json'), 'utf8')) as SpoolCursor;
    return Number.isInteger(c.segment) && Number.isInteger(c.offset) && c.offset >= 0 ? c : null;
  } catch {
    return null;
  }
}

/** Replaces cursor.json atomically: write a temp file, fsync it, rename over, fsync the directory. */
export async function writeCursor(dir: string, cursor: SpoolCursor): Promise<void> {
  const tmp = path.join(dir, 'cursor.json.tmp');
  const fd = await fs.promises.open(tmp, 'w');
  try {
    await fd.writeFile(JSON.stringify(cursor));
    await fd.sync();
  } finally {
    await fd.close();
  }
  await fs.promises.rename(tmp, path.join(dir, 'cursor.json'));
  await syncDir(dir);
}

const heldInProcess = new Set<string>();

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Takes the spool directory for this process. Two writers on one spool would interleave
 * segments and cursors, so a second owner (another dlq node or process) gets a clear error.
 */
export async function acquireSpoolLock(dir: string): Promise<void> {
  if (heldInProcess.has(dir)) {
    throw new Error(`DLQ spool ${dir} is already used by another dlq node in this process: give each dlq node its own spool folder`);
  }
  const lock = path.join(dir, 'lock');
  try {
    const owner = Number((await fs.promises.readFile(lock, 'utf8')).trim());
    if (owner && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`DLQ spool ${dir} is locked by process ${owner}: give each Node-RED instance its own spool folder`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.promises.writeFile(lock, String(process.pid));
  heldInProcess.add(dir);
}

export async function releaseSpoolLock(dir: string): Promise<void> {
  if (!heldInProcess.delete(dir)) return;
  await fs.promises.rm(path.join(dir, 'lock'), { force: true });
}

/** Appends and fdatasyncs (corrupt.log, rejected.log: rare writes that must survive a crash). */
export async function appendDurable(file: string, data: string | Buffer): Promise<void> {
  const fd = await fs.promises.open(file, 'a');
  try {
    await fd.write(typeof data === 'string' ? Buffer.from(data) : data);
    await fd.datasync();
  } finally {
    await fd.close();
  }
}

export async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fd.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fd.close();
  }
}
