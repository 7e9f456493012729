// A strict reader of the Prometheus text exposition format (0.0.4) for the tests: every sample
// line must parse, every metric family must have # HELP and # TYPE before its samples.
export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; type: string; help: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, f = { name, type: '', help: '', samples: [] });
    return f;
  };
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      const m = /^# HELP (\S+) (.*)$/.exec(line);
      if (!m || !NAME.test(m[1])) throw new Error(`bad HELP, ${where}`);
      family(m[1]).help = m[2];
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (!m) throw new Error(`bad TYPE, ${where}`);
      family(m[1]).type = m[2];
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      LABEL.lastIndex = 0;
      let pos = 0;
      while (pos < m[3].length) {
        LABEL.lastIndex = pos;
        const l = LABEL.exec(m[3]);
        if (!l) throw new Error(`bad labels, ${where}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        pos = LABEL.lastIndex;
      }
    }
    // Prometheus parses values with Go's ParseFloat: NaN and Inf in any letter case.
    const special = m[4].toLowerCase();
    const value = special === 'nan' ? NaN : /^[+-]?inf$/.test(special) ? (special.startsWith('-') ? -Infinity : Infinity) : Number(m[4]);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad value, ${where}`);
    const base = families.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
    const f = families.get(base);
    if (!f || !f.type || !f.help) throw new Error(`sample before its HELP/TYPE, ${where}`);
    f.samples.push({ name: m[1], labels, value });
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined if none). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
  const hits = (families.get(base)?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
