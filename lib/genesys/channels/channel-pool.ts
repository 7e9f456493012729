// The notification channels one manager may own: never more than maxChannels at once, counting the
// live ones, those being created, and retired ones that have not expired yet (the platform still
// counts them). A retired channel with enough life left is reused instead of creating a new one, so
// make-before-break replacements never push the client over the limit.
import { ChannelCapacityError, type ChannelInfo, type ChannelsApi } from './channels-api';

export class ChannelPool {
  /** Channels created through this pool. */
  created = 0;
  private readonly retired = new Map<string, ChannelInfo>();
  private pending = 0;

  constructor(
    private readonly rest: ChannelsApi,
    private readonly maxChannels: number,
    /** How long before expiry a channel is rolled over (a spare must outlive twice that). */
    private readonly leadFor: (ch: ChannelInfo) => number,
    /** Ids of the channels in use right now. */
    private readonly live: () => string[],
  ) {}

  owned(): number {
    const now = Date.now();
    const ids = new Set(this.live());
    for (const [id, ch] of this.retired) { if (ch.expiresAt <= now) this.retired.delete(id); else ids.add(id); }
    return ids.size + this.pending;
  }

  hasCapacity(): boolean {
    return this.owned() < this.maxChannels;
  }

  /** The retired channel with the most life left, if it has enough to be worth reusing. */
  reusable(): ChannelInfo | undefined {
    const now = Date.now();
    return [...this.retired.values()].filter((c) => c.expiresAt - now > 2 * this.leadFor(c)).sort((a, b) => b.expiresAt - a.expiresAt)[0];
  }

  /** A channel to subscribe: a new one while under the limit, else a retired one that still exists. */
  async acquire(): Promise<ChannelInfo> {
    for (;;) {
      if (this.hasCapacity()) {
        this.pending++;
        try {
          const ch = await this.rest.create();
          this.created++;
          return ch;
        } finally {
          this.pending--;
        }
      }
      const spare = this.reusable();
      if (!spare) {
        throw new ChannelCapacityError(`all ${this.maxChannels} notification channels this node may use are busy; ` +
          'lower the number of topics or raise the channel limit');
      }
      this.retired.delete(spare.id);
      if (await this.rest.exists(spare.id)) return spare;
    }
  }

  /** Keeps a channel we stopped using as a spare until it expires. */
  retire(ch: ChannelInfo): void {
    this.retired.set(ch.id, ch);
  }
}
