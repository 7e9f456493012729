// The dlq node's badge: spool trouble first (events wait on local disk), then Kafka trouble,
// then what was dead-lettered, by reason. Texts are built with a translate function so the
// node can use its i18n catalogue (tests see the keys).
import type { ConnectionState } from './producer';
import type { DlqCounters } from './dlq-handler';
import type { WriterStats } from './dlq-writer';

export interface DlqStatusInput {
  counters: DlqCounters;
  writer?: WriterStats;
  state?: ConnectionState;
  /** Set when the spool could not be opened or is full. */
  problem?: string;
}

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export function dlqStatus(s: DlqStatusInput, t: Translate): { fill: string; shape: string; text: string } {
  const c = s.counters;
  const reasons = Object.entries(c.byReason).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)).slice(0, 3)
    .map(([r, n]) => `${r} ${n}`).join(', ');
  const summary = c.deadLettered > 0 ? `${t('dlq.status.dead', { count: c.deadLettered })} (${reasons})` : '';
  const retrying = c.pendingRetries > 0 ? t('dlq.status.retrying', { count: c.pendingRetries }) : '';
  const join = (...parts: string[]): string => parts.filter(Boolean).join(' · ');
  if (s.problem) return { fill: 'red', shape: 'dot', text: s.problem.slice(0, 80) };
  const w = s.writer;
  if (w && w.spoolDepth > 0) {
    const key = w.draining ? 'dlq.status.draining' : 'dlq.status.spooled';
    return { fill: 'yellow', shape: 'ring', text: join(t(key, { count: w.spoolDepth }), retrying, summary) };
  }
  if (s.state === 'disconnected' || s.state === 'error') return { fill: 'red', shape: 'ring', text: join(t('dlq.status.unreachable'), retrying, summary) };
  if (c.deadLettered === 0 && !retrying) {
    return s.state === 'connected' ? { fill: 'green', shape: 'dot', text: t('dlq.status.ready') } : { fill: 'grey', shape: 'ring', text: t('dlq.status.idle') };
  }
  return { fill: c.deadLettered > 0 ? 'yellow' : 'blue', shape: 'dot', text: join(retrying, summary) };
}
