// One spooled record per line: "<checksum> <json>\n". JSON lines keep the spool readable with
// standard tools (an operator can inspect or hand-replay it); the checksum finds a torn tail
// after a crash and any corrupted line. Buffers (value, binary key or headers) travel as base64.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { OutgoingRecord, RecordHeaders } from './record-sink';

// Text stays readable in the file ({u}); only bytes that are not UTF-8 need base64 ({b64}).
type Bin = string | { u: string } | { b64: string };

interface SpoolLine {
  t: string;
  k: Bin | null;
  v: Bin | null;
  h?: Record<string, Bin>;
  ts?: number;
}

const CHECKSUM_CHARS = 16;

function checksum(json: string): string {
  // sha256 is available in every Node build (FIPS included); 64 bits are plenty to detect damage.
  return createHash('sha256').update(json).digest('hex').slice(0, CHECKSUM_CHARS);
}

const toBin = (v: string | Buffer): Bin => {
  if (typeof v === 'string') return v;
  return isUtf8(v) ? { u: v.toString('utf8') } : { b64: v.toString('base64') };
};
const fromBin = (v: Bin): string | Buffer => {
  if (typeof v === 'string') return v;
  return 'u' in v ? Buffer.from(v.u, 'utf8') : Buffer.from(v.b64, 'base64');
};

/** Encodes one record as a spool line (with its trailing newline). */
export function encodeSpoolLine(r: OutgoingRecord): Buffer {
  const line: SpoolLine = { t: r.topic, k: r.key == null ? null : toBin(r.key), v: r.value == null ? null : toBin(r.value) };
  if (r.headers) {
    line.h = {};
    for (const [name, value] of Object.entries(r.headers)) line.h[name] = toBin(value);
  }
  if (r.timestamp !== undefined) line.ts = r.timestamp;
  const json = JSON.stringify(line);
  return Buffer.from(`${checksum(json)} ${json}\n`, 'utf8');
}

export type DecodedLine = { ok: true; record: OutgoingRecord } | { ok: false; error: string };

/** Decodes one line (without its newline); reports a bad checksum or bad JSON instead of throwing. */
export function decodeSpoolLine(text: string): DecodedLine {
  const space = text.indexOf(' ');
  if (space !== CHECKSUM_CHARS) return { ok: false, error: 'no checksum' };
  const json = text.slice(space + 1);
  if (checksum(json) !== text.slice(0, space)) return { ok: false, error: 'checksum mismatch' };
  try {
    const l = JSON.parse(json) as SpoolLine;
    let headers: RecordHeaders | undefined;
    if (l.h) {
      headers = {};
      for (const [name, value] of Object.entries(l.h)) headers[name] = fromBin(value);
    }
    return {
      ok: true,
      record: { topic: l.t, key: l.k == null ? null : fromBin(l.k), value: l.v == null ? null : fromBin(l.v), headers, timestamp: l.ts },
    };
  } catch (err) {
    return { ok: false, error: `bad JSON: ${(err as Error).message}` };
  }
}

/**
 * Splits a chunk read from a segment into complete lines. Returns the lines with the byte
 * offset just after each, and the number of bytes consumed (an incomplete last line is left).
 */
export function splitLines(chunk: Buffer, startOffset: number): { lines: Array<{ text: string; end: number; bytes: number }>; consumed: number } {
  const lines: Array<{ text: string; end: number; bytes: number }> = [];
  let pos = 0;
  for (;;) {
    const nl = chunk.indexOf(0x0a, pos);
    if (nl < 0) break;
    lines.push({ text: chunk.toString('utf8', pos, nl), end: startOffset + nl + 1, bytes: nl + 1 - pos });
    pos = nl + 1;
  }
  return { lines, consumed: pos };
}
