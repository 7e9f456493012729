// Notification topics: templates, id lists, and sharding across channels.
// Limits (GENESYS-API.md): 1000 topics per channel, 20 channels per OAuth client; no wildcards.

export const QUEUE_CONVERSATIONS = 'v2.routing.queues.{id}.conversations';
export const USER_CONVERSATIONS = 'v2.users.{id}.conversations';
export const MAX_TOPICS_PER_CHANNEL = 1000;
export const MAX_CHANNELS_PER_CLIENT = 20;

/** Thrown before any channel is created when the topics cannot fit the channel limits. */
export class ChannelLimitError extends Error {
  constructor(message: string, readonly topics: number, readonly channelsNeeded: number) {
    super(message);
    this.name = 'ChannelLimitError';
  }
}

const TOPIC_RE = /^v2\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** A topic the platform would accept: starts with v2., dot-separated words, no wildcards. */
export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length <= 512 && TOPIC_RE.test(topic);
}

/** Ids from text (comma, semicolon, space or newline separated) or an array; trimmed, de-duplicated, order kept. */
export function parseIdList(input: unknown): string[] {
  const raw: unknown[] = Array.isArray(input) ? input : typeof input === 'string' ? input.split(/[\s,;]+/) : [];
  const out = new Set<string>();
  for (const v of raw) {
    const id = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
    if (id) out.add(id);
  }
  return [...out];
}

/** Fills `{id}` in a template for each id. */
export function expandTopics(template: string, ids: string[]): string[] {
  return ids.map((id) => template.split('{id}').join(id));
}

/** Queue, user and extra topics as one de-duplicated list. */
export function buildTopics(spec: { queueIds?: unknown; userIds?: unknown; topics?: unknown; queueTemplate?: string; userTemplate?: string }): string[] {
  return [...new Set([
    ...expandTopics(spec.queueTemplate || QUEUE_CONVERSATIONS, parseIdList(spec.queueIds)),
    ...expandTopics(spec.userTemplate || USER_CONVERSATIONS, parseIdList(spec.userIds)),
    ...parseIdList(spec.topics),
  ])];
}

/** Channels needed for n topics. */
export function channelsNeeded(n: number, maxPerChannel = MAX_TOPICS_PER_CHANNEL): number {
  return Math.ceil(n / maxPerChannel);
}

/**
 * Assigns topics to channels. Existing shards keep the topics they still want (so a run-time change
 * only touches the channels whose topics changed); new topics fill free room, then new shards.
 * The result has one entry per existing shard (maybe empty: retire it) plus new shards at the end.
 */
export function planShards(current: string[][], topics: string[], maxPerChannel = MAX_TOPICS_PER_CHANNEL, maxChannels = MAX_CHANNELS_PER_CLIENT): string[][] {
  const wanted = new Set(topics);
  const needed = channelsNeeded(wanted.size, maxPerChannel);
  if (needed > maxChannels) {
    throw new ChannelLimitError(
      `${wanted.size} topics need ${needed} notification channels, but at most ${maxChannels} are allowed ` +
      `(${maxPerChannel} topics each; Genesys Cloud allows 20 channels per OAuth client). ` +
      'Subscribe fewer queues/users, or split them across OAuth clients.', wanted.size, needed);
  }
  const placed = new Set<string>();
  const shards = current.map((s) => s.filter((t) => {
    if (!wanted.has(t) || placed.has(t)) return false;
    placed.add(t);
    return true;
  }));
  const pending = [...wanted].filter((t) => !placed.has(t));
  for (const shard of shards) {
    while (pending.length && shard.length > 0 && shard.length < maxPerChannel) shard.push(pending.shift() as string);
  }
  for (const shard of shards) {
    while (pending.length && shard.length < maxPerChannel) shard.push(pending.shift() as string);
  }
  while (pending.length) shards.push(pending.splice(0, maxPerChannel));
  if (shards.filter((s) => s.length).length > maxChannels) {
    // Fragmented by earlier changes: repack from scratch (keeping shard slots so old channels are reused).
    const all = [...wanted];
    return current.length >= needed
      ? current.map((_, i) => all.slice(i * maxPerChannel, (i + 1) * maxPerChannel))
      : Array.from({ length: needed }, (_, i) => all.slice(i * maxPerChannel, (i + 1) * maxPerChannel));
  }
  return shards;
}
