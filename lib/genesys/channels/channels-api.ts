// The notification channel REST calls, over the shared GenesysApi client.
import { GenesysApiError, type GenesysApi } from '../types';

export interface ChannelInfo {
  id: string;
  connectUri: string;
  /** ms since epoch */
  expiresAt: number;
  createdAt: number;
}

export interface SubscribeResult {
  permitted: string[];
  rejected: { id: string; reason: string }[];
}

/** The channel limit was hit: the guide's 429 on create, or every channel we may own is in use. */
export class ChannelCapacityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelCapacityError';
  }
}

const BASE = '/api/v2/notifications/channels';
const DAY_MS = 24 * 3600 * 1000;

export class ChannelsApi {
  constructor(private readonly api: GenesysApi, private readonly signal?: AbortSignal, private readonly timeoutMs = 10_000) {}

  async create(): Promise<ChannelInfo> {
    const now = Date.now();
    let res;
    try {
      // No automatic 429 retries here: in the guide's world 429 means "20 channels already".
      res = await this.api.request<{ id: string; connectUri: string; expires?: string }>({
        method: 'POST', path: BASE, body: {}, timeoutMs: this.timeoutMs, maxRetries: 0, acceptStatus: [429], signal: this.signal,
      });
    } catch (err) {
      if (err instanceof GenesysApiError && err.status === 429) throw capacity429();
      throw err;
    }
    if (res.status === 429) throw capacity429();
    const b = res.body;
    if (!b || typeof b.id !== 'string' || typeof b.connectUri !== 'string') {
      throw new Error('POST /api/v2/notifications/channels answered without id/connectUri');
    }
    const expires = b.expires ? Date.parse(b.expires) : NaN;
    return { id: b.id, connectUri: b.connectUri, expiresAt: Number.isFinite(expires) ? expires : now + DAY_MS, createdAt: now };
  }

  /** HEAD: does the channel still exist (false after expiry or eviction)? */
  async exists(channelId: string): Promise<boolean> {
    const res = await this.api.request({
      method: 'HEAD', path: `${BASE}/${encodeURIComponent(channelId)}`, acceptStatus: [404], timeoutMs: this.timeoutMs, signal: this.signal,
    });
    return res.status >= 200 && res.status < 300;
  }

  /** PUT: replaces the channel's topics (and keeps the channel alive). */
  async replaceSubscriptions(channelId: string, topics: string[]): Promise<SubscribeResult> {
    const res = await this.api.request<{ entities?: { id: string; state?: string; rejectionReason?: string }[] }>({
      method: 'PUT', path: `${BASE}/${encodeURIComponent(channelId)}/subscriptions`, body: topics.map((id) => ({ id })),
      timeoutMs: this.timeoutMs, signal: this.signal,
    });
    const out: SubscribeResult = { permitted: [], rejected: [] };
    for (const e of res.body?.entities ?? []) {
      if (String(e.state ?? '').toLowerCase() === 'rejected') out.rejected.push({ id: e.id, reason: e.rejectionReason || 'rejected' });
      else out.permitted.push(e.id);
    }
    return out;
  }

  /** DELETE subscriptions: the channel stops delivering (best effort when retiring it). */
  async clearSubscriptions(channelId: string, timeoutMs = this.timeoutMs): Promise<void> {
    await this.api.request({
      method: 'DELETE', path: `${BASE}/${encodeURIComponent(channelId)}/subscriptions`, acceptStatus: [404], timeoutMs, maxRetries: 0, signal: this.signal,
    });
  }

  /** The channel's current expiry from the channel list (after a resubscribe extended it), if listed. */
  async readExpiry(channelId: string): Promise<number | undefined> {
    const res = await this.api.request<{ entities?: { id: string; expires?: string }[] }>({
      method: 'GET', path: BASE, query: { includechannels: 'oauthclient' }, timeoutMs: this.timeoutMs, signal: this.signal,
    });
    const e = (res.body?.entities ?? []).find((c) => c.id === channelId);
    const t = e?.expires ? Date.parse(e.expires) : NaN;
    return Number.isFinite(t) ? t : undefined;
  }
}

function capacity429(): ChannelCapacityError {
  return new ChannelCapacityError('Genesys Cloud answered 429 creating a notification channel: this OAuth client already has ' +
    'the maximum number of channels (20). Another application may be using the same OAuth client.');
}
