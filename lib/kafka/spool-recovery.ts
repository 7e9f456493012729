// Rebuilds a spool's state from its folder after a restart or crash: drops segments the cursor
// has passed (a crash between cursor write and delete leaves them), counts what is undelivered,
// and cuts a torn tail from the last segment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSpoolLine, splitLines } from './spool-format';
import { readCursor, type SpoolCursor } from './spool-files';

export interface SpoolSegment { seq: number; file: string; size: number }

export interface RecoveredSpool {
  segments: SpoolSegment[];
  cursor: SpoolCursor;
  /** Undelivered lines (a corrupt one counts until the drain quarantines it). */
  records: number;
  bytes: number;
  truncated: Array<{ file: string; bytes: number }>;
}

const SEGMENT_RE = /^seg-(\d{12})\.log$/;
export const segmentName = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.log`;

export async function recoverSpool(dir: string): Promise<RecoveredSpool> {
  const saved = await readCursor(dir);
  const seqs = (await fs.promises.readdir(dir))
    .map((n) => SEGMENT_RE.exec(n)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b);
  const segments: SpoolSegment[] = [];
  for (const seq of seqs) {
    const file = path.join(dir, segmentName(seq));
    if (saved && seq < saved.segment) { await fs.promises.rm(file, { force: true }); continue; }
    segments.push({ seq, file, size: (await fs.promises.stat(file)).size });
  }
  const first = segments[0];
  let cursor: SpoolCursor;
  if (saved && first && first.seq === saved.segment) cursor = { ...saved };
  else if (first) cursor = { segment: first.seq, offset: 0 };
  else cursor = { segment: Math.max(saved?.segment ?? 1, (seqs[seqs.length - 1] ?? 0) + 1), offset: 0 };

  const out: RecoveredSpool = { segments, cursor, records: 0, bytes: 0, truncated: [] };
  for (const [i, seg] of segments.entries()) {
    const start = Math.min(cursor.segment === seg.seq ? cursor.offset : 0, seg.size);
    const data = await fs.promises.readFile(seg.file);
    const { lines } = splitLines(data.subarray(start), start);
    let goodEnd = start;
    let count = 0;
    for (const l of lines) {
      count++;
      if (decodeSpoolLine(l.text).ok) goodEnd = l.end;
    }
    if (i === segments.length - 1 && goodEnd < data.length) {
      // A crash during the last write: those appends never resolved, so no caller relied on them.
      count -= lines.filter((l) => l.end > goodEnd).length;
      await fs.promises.truncate(seg.file, goodEnd);
      out.truncated.push({ file: seg.file, bytes: data.length - goodEnd });
      seg.size = goodEnd;
    }
    out.records += count;
    out.bytes += seg.size - start;
  }
  return out;
}
