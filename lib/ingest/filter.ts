// Guide 000's push filter language: ==, !=, &&, ||, parentheses, null checks, string, number and
// boolean literals, over the flattened realtime:interaction fields. Every field path is checked
// against REALTIME_INTERACTION_FIELDS: the guide's trap is a filter on a path that does not exist
// (wrapUpCode.code, customer.phoneNumber) which silently matches nothing, so we refuse it up front.
// The node validates filters with it (editor and deploy); the simulator evaluates them.
import { REALTIME_INTERACTION_FIELDS } from '../genesys/shapes';

export type Literal = string | number | boolean | null;
export type Operand = { kind: 'field'; path: string; pos: number } | { kind: 'literal'; value: Literal; pos: number };
export type FilterNode =
  | { kind: 'compare'; op: '==' | '!='; left: Operand; right: Operand }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode };

export class FilterError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'FilterError';
  }
}

const FIELDS: ReadonlySet<string> = new Set(REALTIME_INTERACTION_FIELDS);
const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['waitTimeMs', 'talkTimeMs', 'wrapUpTimeMs']);
/** Fields whose values are a closed set: comparing with anything else can never match. */
const ENUM_FIELDS: Record<string, readonly string[]> = {
  type: ['voice', 'chat', 'email', 'sms'],
  direction: ['inbound', 'outbound'],
};
const OBJECT_FIELDS = new Set(['queue', 'agent', 'customer']);

type Token =
  | { t: 'op'; v: '==' | '!=' | '&&' | '||' | '(' | ')'; pos: number }
  | { t: 'ident'; v: string; pos: number }
  | { t: 'lit'; v: Literal; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '&&' || two === '||') { out.push({ t: 'op', v: two, pos: i }); i += 2; continue; }
    if (c === '(' || c === ')') { out.push({ t: 'op', v: c, pos: i }); i++; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new FilterError(`unterminated string starting at ${i + 1}`, i);
      out.push({ t: 'lit', v: s, pos: i });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num) { out.push({ t: 'lit', v: Number(num[0]), pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*/.exec(src.slice(i));
    if (id) {
      const w = id[0];
      if (w === 'null') out.push({ t: 'lit', v: null, pos: i });
      else if (w === 'true' || w === 'false') out.push({ t: 'lit', v: w === 'true', pos: i });
      else out.push({ t: 'ident', v: w, pos: i });
      i += w.length;
      continue;
    }
    if (c === '=' || c === '!' || c === '&' || c === '|' || c === '<' || c === '>') {
      throw new FilterError(`unsupported operator at ${i + 1}: use ==, !=, && or ||`, i);
    }
    throw new FilterError(`unexpected character '${c}' at ${i + 1}`, i);
  }
  return out;
}

/** Parses and validates a filter; throws FilterError with a message for the user. */
export function parseFilter(src: string): FilterNode | null {
  if (!src || !src.trim()) return null;
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const end = () => src.length;
  const expect = (v: string) => {
    const t = toks[k];
    if (!t || t.t !== 'op' || t.v !== v) throw new FilterError(`expected '${v}' at ${(t?.pos ?? end()) + 1}`, t?.pos ?? end());
    k++;
  };
  const operand = (): Operand => {
    const t = toks[k];
    if (!t) throw new FilterError('expression ends too early', end());
    if (t.t === 'ident') { k++; checkPath(t.v, t.pos); return { kind: 'field', path: t.v, pos: t.pos }; }
    if (t.t === 'lit') { k++; return { kind: 'literal', value: t.v, pos: t.pos }; }
    throw new FilterError(`expected a field or a value at ${t.pos + 1}`, t.pos);
  };
  const primary = (): FilterNode => {
    const t = peek();
    if (t && t.t === 'op' && t.v === '(') {
      k++;
      const e = or();
      expect(')');
      return e;
    }
    const left = operand();
    const op = peek();
    if (!op || op.t !== 'op' || (op.v !== '==' && op.v !== '!=')) {
      throw new FilterError(`expected == or != at ${(op?.pos ?? end()) + 1}`, op?.pos ?? end());
    }
    k++;
    const right = operand();
    const node: FilterNode = { kind: 'compare', op: op.v, left, right };
    checkComparison(node);
    return node;
  };
  const and = (): FilterNode => {
    let left = primary();
    while (peek()?.t === 'op' && peek().v === '&&') { k++; left = { kind: 'and', left, right: primary() }; }
    return left;
  };
  const or = (): FilterNode => {
    let left = and();
    while (peek()?.t === 'op' && peek().v === '||') { k++; left = { kind: 'or', left, right: and() }; }
    return left;
  };
  const ast = or();
  if (k < toks.length) throw new FilterError(`unexpected '${String(toks[k].v)}' at ${toks[k].pos + 1}`, toks[k].pos);
  return ast;
}

function checkPath(p: string, pos: number): void {
  if (FIELDS.has(p)) return;
  const known = REALTIME_INTERACTION_FIELDS.join(', ');
  if (p.includes('.')) {
    throw new FilterError(`'${p}' is not a field of realtime:interaction events (they are flat: nested paths like this match nothing and would suppress every event). Fields: ${known}`, pos);
  }
  if (OBJECT_FIELDS.has(p)) return; // queue == null, agent != null
  throw new FilterError(`unknown field '${p}': a filter on it would suppress every event. Fields: ${known}`, pos);
}

function checkComparison(n: Extract<FilterNode, { kind: 'compare' }>): void {
  const { left, right } = n;
  if (left.kind === 'literal' && right.kind === 'literal') {
    throw new FilterError(`comparison at ${left.pos + 1} has no field`, left.pos);
  }
  for (const [f, v] of [[left, right], [right, left]] as const) {
    if (f.kind !== 'field' || v.kind !== 'literal' || v.value === null) continue;
    if (OBJECT_FIELDS.has(f.path)) {
      throw new FilterError(`'${f.path}' is an object: compare it with null, or use ${f.path}.id`, v.pos);
    }
    if (NUMERIC_FIELDS.has(f.path) && typeof v.value !== 'number') {
      throw new FilterError(`'${f.path}' is a number: compare it with a number`, v.pos);
    }
    if (!NUMERIC_FIELDS.has(f.path) && typeof v.value === 'number') {
      throw new FilterError(`'${f.path}' is text: compare it with a quoted string`, v.pos);
    }
    const allowed = ENUM_FIELDS[f.path];
    if (allowed && n.op === '==' && !allowed.includes(String(v.value))) {
      throw new FilterError(`'${f.path}' is one of ${allowed.join(', ')}: '${String(v.value)}' never matches`, v.pos);
    }
  }
}

/** Checks a filter for the editor and deploy. */
export function validateFilter(src: string): { ok: true } | { ok: false; error: string; position: number } {
  try {
    parseFilter(src);
    return { ok: true };
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, error: err.message, position: err.position };
    throw err;
  }
}

function valueOf(o: Operand, event: Record<string, any>): Literal | object {
  if (o.kind === 'literal') return o.value;
  const dot = o.path.indexOf('.');
  const v = dot === -1 ? event[o.path] : event[o.path.slice(0, dot)]?.[o.path.slice(dot + 1)];
  return v === undefined ? null : v;
}

function evaluate(n: FilterNode, event: Record<string, any>): boolean {
  switch (n.kind) {
    case 'and': return evaluate(n.left, event) && evaluate(n.right, event);
    case 'or': return evaluate(n.left, event) || evaluate(n.right, event);
    case 'compare': {
      const eq = valueOf(n.left, event) === valueOf(n.right, event);
      return n.op === '==' ? eq : !eq;
    }
  }
}

/** A predicate over realtime:interaction events; an empty filter matches everything. */
export function compileFilter(src: string | undefined): (event: Record<string, any>) => boolean {
  const ast = parseFilter(src ?? '');
  if (!ast) return () => true;
  return (event) => evaluate(ast, event);
}
