// Every event the simulator delivered (or tried to), so a test can prove that each one reached
// Kafka or the DLQ. One entry per event per delivery path; redeliveries do not add entries.
export interface LedgerEntry {
  /** The delivery path: 'push', 'notification', 'analytics-ws', 'eventstream', 'details-query', 'ingest'. */
  path: string;
  /** The id a consumer can match on (the event's own id where it has one). */
  eventId: string;
  conversationId: string;
  seq: number;
  at: string;
  /** Whether the platform actually delivered it (false: lost while a socket was down, as on the platform). */
  delivered: boolean;
  malformed?: boolean;
  duplicateOf?: string;
  payload?: unknown;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  record(e: Omit<LedgerEntry, 'at'> & { at?: string }): void {
    this.entries.push({ at: new Date().toISOString(), ...e });
  }

  byPath(path: string): LedgerEntry[] {
    return this.entries.filter((e) => e.path === path);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
