// Summary of a V8 .cpuprofile (from --cpu-prof): self time by function and by area (our nodes,
// lib/kafka, kafkajs, Node-RED's runtime, Node.js internals, GC), and inclusive time of chosen frames.
//   npx ts-node --transpile-only bench/profile.ts bench/results/profiles/<file>.cpuprofile [top=25]
import * as fs from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byArea: [string, number][];
  byFunction: [string, number][];
}

/** Which part of the stack a script belongs to. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn === '(idle)' ? 'idle' : fn === '(program)' ? 'V8/native (program)' : `native ${fn}`;
  if (/\/kafkajs\//.test(url)) return 'kafkajs';
  if (/\/ioredis\/|\/redis-parser\/|\/denque\//.test(url)) return 'ioredis';
  if (/\/@node-red\/runtime\/lib\/flows\//.test(url)) return 'Node-RED message routing (flows)';
  if (/\/@node-red\/runtime\/lib\/nodes\//.test(url)) return 'Node-RED Node (send/receive/done)';
  if (/\/@node-red\/util\//.test(url)) return 'Node-RED util (cloneMessage, hooks, log)';
  if (/\/@node-red\/nodes\/core\/function\//.test(url)) return 'Node-RED function nodes (bench feeder/counter)';
  if (/\/@node-red\/nodes\/core\/network\/21-httpin/.test(url)) return 'Node-RED http in/response';
  if (/\/@node-red\//.test(url)) return 'Node-RED other';
  if (/\/(express|body-parser|raw-body|router|finalhandler|send|on-finished|type-is|content-type|iconv-lite|qs)\//.test(url)) return 'Express/body parsing';
  if (/\/jsonwebtoken\/|\/jws\/|\/jwa\//.test(url)) return 'jsonwebtoken';
  if (/\/node-red-contrib-kafkajs\//.test(url)) return 'node-red-contrib-kafkajs';
  if (/\/ws\/lib\//.test(url)) return 'ws';
  if (/\/ajv\//.test(url)) return 'ajv';
  const ours = /\/dist\/(lib\/[^/]+|nodes\/[^/]+)\//.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  if (/^node:|^internal\//.test(url)) return 'Node.js internals';
  if (/\/node_modules\//.test(url)) return `other module ${/\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]}`;
  return 'other';
}

export function summarize(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const area = new Map<string, number>();
  const fn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { callFrame: cf } = byId.get(id)!;
    const a = areaOf(cf.url, cf.functionName);
    if (a === 'idle') { idle += us; continue; }
    total += us;
    area.set(a, (area.get(a) ?? 0) + us);
    const short = cf.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(dist\/)/, '$1').replace(/^file:\/\//, '');
    const key = `${cf.functionName || '(anonymous)'} ${short ? `${short}:${cf.lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000] as [string, number]);
  return { totalMs: total / 1000, idleMs: idle / 1000, byArea: sorted(area), byFunction: sorted(fn).slice(0, top) };
}

/** Markdown lines: areas with their share of busy time, then the top functions. */
export function formatSummary(name: string, s: ProfileSummary): string {
  const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1)} %`;
  return [
    `#### CPU profile: ${name} (busy ${Math.round(s.totalMs)} ms, idle ${Math.round(s.idleMs)} ms)`,
    '',
    '| area (self time) | ms | share |', '| --- | ---: | ---: |',
    ...s.byArea.filter(([, ms]) => ms / s.totalMs >= 0.005).map(([a, ms]) => `| ${a} | ${Math.round(ms)} | ${pct(ms)} |`),
    '',
    '| function (self time) | ms | share |', '| --- | ---: | ---: |',
    ...s.byFunction.map(([f, ms]) => `| \`${f.replace(/\|/g, '\\|')}\` | ${Math.round(ms)} | ${pct(ms)} |`),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) { console.error('usage: bench/profile.ts <file.cpuprofile> [top]'); process.exit(2); }
  console.log(formatSummary(file, summarize(file, Number(process.argv[3] || 25))));
}
