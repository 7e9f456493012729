// What genesys-ws-in subscribes: queue ids, user ids and extra topics, from its settings or from an
// input message at run time. Bad input is refused with a clear error and changes nothing.
import { buildTopics, isValidTopic, parseIdList, QUEUE_CONVERSATIONS, USER_CONVERSATIONS } from './topics';

export interface SubscriptionSpec {
  queueIds: string[];
  userIds: string[];
  /** Full topic names beside the templated ones (e.g. v2.analytics.* or per-media queue topics). */
  topics: string[];
}

export interface TopicTemplates { queueTemplate?: string; userTemplate?: string }

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const LIST_KEYS = ['queueIds', 'userIds', 'topics'] as const;

export class SubscriptionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionInputError';
  }
}

/** Topics of a spec with the given templates ({id} placeholder). */
export function topicsOf(spec: SubscriptionSpec, t: TopicTemplates = {}): string[] {
  return buildTopics({ ...spec, queueTemplate: t.queueTemplate || QUEUE_CONVERSATIONS, userTemplate: t.userTemplate || USER_CONVERSATIONS });
}

/** Throws SubscriptionInputError for an id or topic Genesys would not accept. */
export function validateSpec(spec: SubscriptionSpec, t: TopicTemplates = {}): SubscriptionSpec {
  for (const key of ['queueIds', 'userIds'] as const) {
    const bad = spec[key].find((id) => !ID_RE.test(id));
    if (bad !== undefined) throw new SubscriptionInputError(`invalid id in ${key}: "${bad.slice(0, 80)}" (letters, digits, - and _ only)`);
  }
  const valid = (topic: string): boolean => isValidTopic(topic);
  const badTopic = topicsOf(spec, t).find((topic) => !valid(topic));
  if (badTopic !== undefined) throw new SubscriptionInputError(`invalid notification topic "${badTopic.slice(0, 120)}" (v2.<words separated by dots>, no wildcards)`);
  return spec;
}

/**
 * The subscription after an input message:
 *  - msg.topics (array or text): exactly these topics, nothing else;
 *  - msg.payload.{queueIds,userIds,topics} with msg.payload.action 'replace' (default), 'add' or 'remove':
 *    the lists given are replaced/extended/reduced, the others kept.
 */
export function applySubscriptionMessage(current: SubscriptionSpec, msg: { topics?: unknown; payload?: unknown }, t: TopicTemplates = {}): SubscriptionSpec {
  if (msg.topics !== undefined) {
    if (typeof msg.topics !== 'string' && !Array.isArray(msg.topics)) throw new SubscriptionInputError('msg.topics must be an array of topic names or a comma/newline separated string');
    return validateSpec({ queueIds: [], userIds: [], topics: parseIdList(msg.topics) }, t);
  }
  const p = msg.payload;
  if (!p || typeof p !== 'object' || Array.isArray(p) || !LIST_KEYS.some((k) => k in p)) {
    throw new SubscriptionInputError('expected msg.topics, or msg.payload with queueIds, userIds or topics (and optionally action: replace|add|remove)');
  }
  const body = p as Record<string, unknown>;
  const action = body.action ?? 'replace';
  if (action !== 'replace' && action !== 'add' && action !== 'remove') throw new SubscriptionInputError(`msg.payload.action must be replace, add or remove (got ${String(action).slice(0, 40)})`);
  const next: SubscriptionSpec = { queueIds: [...current.queueIds], userIds: [...current.userIds], topics: [...current.topics] };
  for (const key of LIST_KEYS) {
    if (!(key in body)) continue;
    const v = body[key];
    if (typeof v !== 'string' && !Array.isArray(v)) throw new SubscriptionInputError(`msg.payload.${key} must be an array or a comma/newline separated string`);
    const ids = parseIdList(v);
    if (action === 'replace') next[key] = ids;
    else if (action === 'add') next[key] = [...new Set([...next[key], ...ids])];
    else next[key] = next[key].filter((x) => !ids.includes(x));
  }
  return validateSpec(next, t);
}
