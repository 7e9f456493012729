// The dedup key of a message: 'auto' (event_id:sequence of a normalized event, or the same key
// derived from a raw source event, see lib/events/normalize eventKey), a property path
// (payload.metadata.eventId) or a template ({{payload.data.conversationId}}:{{payload.metadata.sequence}}).
import { eventKey } from '../normalize';

export type KeyMode = 'auto' | 'path' | 'template';

export type KeyFn = (msg: Record<string, any>) => string | undefined;

/** "payload.a[0]['b']" (a leading "msg." is allowed) -> ['payload', 'a', '0', 'b'] */
export function parsePath(path: string): string[] {
  const p = path.trim().replace(/^msg\./, '');
  if (!p) throw new Error('empty property path');
  return p
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\[\s*(["'])(.*?)\1\s*\]/g, '.$2')
    .split('.')
    .filter((s) => s !== '');
}

function read(msg: Record<string, any>, segments: string[]): unknown {
  let v: any = msg;
  for (const s of segments) {
    if (v === null || v === undefined) return undefined;
    v = v[s];
  }
  return v;
}

/** Only strings, finite numbers and booleans make keys; objects or missing values do not. */
function keyPart(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** Compiles the key rule once; throws on a bad rule (the node reports it at deploy). */
export function compileKey(mode: KeyMode, expr = ''): KeyFn {
  if (mode === 'auto') return (msg) => eventKey(msg.payload, msg.genesys);
  if (mode === 'path') {
    const segments = parsePath(expr);
    return (msg) => keyPart(read(msg, segments));
  }
  if (mode === 'template') {
    const parts: (string | string[])[] = [];
    let last = 0;
    for (const m of expr.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)) {
      parts.push(expr.slice(last, m.index), parsePath(m[1]));
      last = (m.index ?? 0) + m[0].length;
    }
    parts.push(expr.slice(last));
    if (parts.length === 1) throw new Error('key template has no {{property}} placeholder');
    return (msg) => {
      let key = '';
      for (const part of parts) {
        if (typeof part === 'string') { key += part; continue; }
        const v = keyPart(read(msg, part));
        if (v === undefined) return undefined;
        key += v;
      }
      return key;
    };
  }
  throw new Error(`unknown key mode ${String(mode)}`);
}
