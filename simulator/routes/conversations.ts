// Simulator: GET conversation and the conversation details query, real platform (the REST paths
// the janitor and the backfill after a socket gap use).
//
// Details query interval: the platform filters on conversation start by daily index, so it
// returns a superset of the interval. Here a conversation matches when it was active during the
// interval (started before its end; still live, or ended at or after its start). That includes
// every conversation that started or changed in the interval, which is what a gap backfill needs.
import type { GenesysSimulator } from '../server';
import { sendJson } from '../server';
import type { SimConversation } from '../world';
import { renderAnalyticsConversation, renderConversation } from './conversation-render';

const DAY_MS = 86_400_000;
const ORDER_BY = new Set(['conversationStart', 'conversationEnd', 'segmentStart']);

interface ConversationsState {
  /** (conversationId:seq) pairs already written to the ledger by the details query. */
  recorded: Set<string>;
}

export function registerConversations(sim: GenesysSimulator): void {
  const st: ConversationsState = { recorded: new Set() };
  sim.state.conversations = st;

  sim.route('GET', '/api/v2/conversations/:id', (_req, res, ctx) => {
    const c = sim.world.get(ctx.params.id);
    if (!c) {
      sendJson(res, 404, { message: `Conversation ${ctx.params.id} not found`, code: 'not.found', status: 404 });
      return;
    }
    sendJson(res, 200, renderConversation(c));
  });

  sim.route('POST', '/api/v2/analytics/conversations/details/query', (_req, res, ctx) => {
    const q = parseQuery(ctx.body);
    if ('error' in q) {
      sendJson(res, 400, { message: q.error, code: 'bad.request', status: 400 });
      return;
    }
    const matches: SimConversation[] = [];
    for (const c of sim.world.conversations.values()) {
      const start = Date.parse(c.startTime);
      const ended = c.state === 'ended' ? Date.parse(c.endTime ?? c.startTime) : Infinity;
      if (start < q.end && ended >= q.start && passesFilters(c, q.filters)) matches.push(c);
    }
    const key = (c: SimConversation) => Date.parse(q.orderBy === 'conversationEnd' ? c.endTime ?? c.startTime : c.startTime);
    matches.sort((a, b) => (key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) * (q.desc ? -1 : 1));
    const page = matches.slice((q.pageNumber - 1) * q.pageSize, q.pageNumber * q.pageSize);
    const conversations = page.map((c) => {
      const k = `${c.id}:${c.seq}`;
      if (!st.recorded.has(k)) {
        st.recorded.add(k);
        sim.ledger.record({ path: 'details-query', eventId: k, conversationId: c.id, seq: c.seq, delivered: true });
      }
      return renderAnalyticsConversation(c);
    });
    // The platform leaves `conversations` out of an empty answer (clients must not assume it).
    const body = conversations.length || sim.mode === 'guide' ? { conversations, totalHits: matches.length } : { totalHits: matches.length };
    sendJson(res, 200, body);
  });
}

interface Filter { type: 'and' | 'or'; predicates: { dimension: string; value: string }[] }
interface ParsedQuery {
  start: number; end: number; desc: boolean; orderBy: string;
  pageSize: number; pageNumber: number; filters: Filter[];
}

function parseQuery(body: any): ParsedQuery | { error: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { error: 'request body must be a JSON query object' };
  const m = typeof body.interval === 'string' ? /^([^/]+)\/([^/]+)$/.exec(body.interval) : null;
  const start = m ? Date.parse(m[1]) : NaN;
  const end = m ? Date.parse(m[2]) : NaN;
  if (Number.isNaN(start) || Number.isNaN(end)) return { error: 'interval must be "<ISO start>/<ISO end>"' };
  if (end <= start) return { error: 'interval end must be after its start' };
  const filters: Filter[] = [];
  for (const key of ['segmentFilters', 'conversationFilters']) {
    const list = body[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return { error: `${key} must be an array` };
    for (const f of list) {
      if (!f || !Array.isArray(f.predicates)) return { error: `${key}[] needs predicates` };
      filters.push({ type: f.type === 'or' ? 'or' : 'and', predicates: f.predicates.map((p: any) => ({ dimension: String(p?.dimension), value: String(p?.value) })) });
    }
  }
  if (end - start > 31 * DAY_MS || (end - start > 7 * DAY_MS && !filters.length)) {
    return { error: 'interval too long: at most 7 days without filters, 31 days with filters' };
  }
  const order = body.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') return { error: 'order must be asc or desc' };
  const orderBy = body.orderBy ?? 'conversationStart';
  if (!ORDER_BY.has(orderBy)) return { error: `orderBy ${orderBy} is not supported` };
  const pageSize = body.paging?.pageSize ?? 25;
  const pageNumber = body.paging?.pageNumber ?? 1;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return { error: 'paging.pageSize must be 1..100' };
  if (!Number.isInteger(pageNumber) || pageNumber < 1) return { error: 'paging.pageNumber must be 1 or more' };
  return { start, end, desc: order === 'desc', orderBy, pageSize, pageNumber, filters };
}

/** The few dimensions a backfill filters on; every filter must pass. */
function passesFilters(c: SimConversation, filters: Filter[]): boolean {
  const values: Record<string, (string | undefined)[]> = {
    conversationId: [c.id], queueId: [c.queueId], userId: [c.agentId],
    mediaType: [c.mediaType === 'sms' ? 'message' : c.mediaType], direction: [c.direction], originatingDirection: [c.direction],
    purpose: ['customer', 'acd', ...(c.agentId ? ['agent'] : [])],
  };
  return filters.every((f) => {
    const hit = (p: Filter['predicates'][number]) => (values[p.dimension] ?? []).some((v) => v !== undefined && v.toLowerCase() === p.value.toLowerCase());
    return f.type === 'or' ? f.predicates.some(hit) : f.predicates.every(hit);
  });
}
