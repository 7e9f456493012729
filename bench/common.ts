// Shared bits of the benchmarks: medians over runs, a 1 KB interaction event, the results table.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const RUNS = Number(process.env.BENCH_RUNS || 3);

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs fn RUNS times and returns the median of what it measured. */
export async function medianOf(label: string, fn: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const v = await fn();
    values.push(v);
    console.log(`  ${label} run ${i + 1}/${RUNS}: ${fmt(v)}`);
  }
  return median(values);
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** A ~1 KB normalized interaction event, keyed by conversation id. */
export function sampleEvent(i: number): { key: string; value: string } {
  const conversationId = `c0ffee00-0000-4000-8000-${String(i % 5000).padStart(12, '0')}`;
  const event = {
    event_id: `${conversationId}:${i}`, sequence: i, timestamp: new Date(1_700_000_000_000 + i).toISOString(),
    interaction_type: 'voice', conversation_id: conversationId, queue_id: 'a1b2c3d4-queue-0001', queue_name: 'Billing Support',
    agent_id: 'f00dcafe-agent-0042', agent_name: 'Agent Forty-Two', state: 'connected', wait_time_ms: 12345,
    talk_time_ms: 67890, wrap_up_time_ms: 0, customer_channel_id: '+15555550123', source: 'webhook',
    received_at: new Date().toISOString(), partition_path: '2023/11/14/voice',
    raw_payload: { note: 'x'.repeat(480), participants: [{ purpose: 'customer' }, { purpose: 'agent' }] },
  };
  return { key: conversationId, value: JSON.stringify(event) };
}

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** "p50 / p99" latency in ms, for request/response measurements. */
  latency?: string;
  baseline?: string;
  ratio?: number;
  target?: string;
  /** Whether the target is met (omitted when there is none). */
  met?: boolean;
  /** Load average (1 min) when the figure was taken: the machine may be shared. */
  load?: number;
  note?: string;
}

export function table(rows: Row[], header = ''): string {
  const lines = [
    header || `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; median of ${RUNS} runs`,
    '',
    '| measurement | value | p50 / p99 ms | ratio | target | met | load avg |',
    '| --- | ---: | ---: | ---: | --- | :---: | ---: |',
    ...rows.map((r) => `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${Number.isFinite(r.value) ? `${fmt(r.value)} ${r.unit}` : r.unit} | ${r.latency ?? ''} | `
      + `${r.ratio === undefined || !Number.isFinite(r.ratio) ? '' : `${r.ratio.toFixed(2)} × ${r.baseline}`} | ${r.target ?? ''} | `
      + `${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} | ${r.load === undefined ? '' : r.load.toFixed(1)} |`),
  ];
  return lines.join('\n');
}

export function writeResults(name: string, text: string): string {
  const dir = path.resolve(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  fs.writeFileSync(file, text + '\n');
  fs.writeFileSync(path.join(dir, `${name}-latest.md`), text + '\n');
  return file;
}
