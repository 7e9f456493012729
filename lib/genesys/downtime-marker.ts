// Until when a socket source was last known connected, kept in a small file so that it outlives a
// redeploy or a crash. The platform keeps nothing for a socket that is down, and Node-RED drops the
// messages in flight when a flow stops: the next start backfills from this moment (see genesys-ws-in).
import * as fs from 'node:fs';
import { readJsonFileSync, writeJsonFileSync } from '../json-file';

export class DowntimeMarker {
  /** The previous run's last connected moment (ISO), read once at construction; undefined on a first start. */
  readonly previous: string | undefined;
  private lastWrite = 0;
  private connectedThisRun = false;
  /** Starts of gaps whose backfill has not finished: the marker never moves past the earliest. */
  private readonly holds = new Map<number, number>();
  private nextHold = 0;
  private written: number | undefined;

  /** @param everyMs how often alive() writes at most (a crash loses at most this much; backfill slack covers it). */
  constructor(private readonly file: string, private readonly everyMs = 2000) {
    const at = (readJsonFileSync(file) as { connectedUntil?: unknown } | undefined)?.connectedUntil;
    this.previous = typeof at === 'string' && Number.isFinite(Date.parse(at)) ? at : undefined;
  }

  /** Call while the source is connected: records now (at most every everyMs). */
  alive(now = Date.now()): void {
    this.connectedThisRun = true;
    if (now - this.lastWrite < this.everyMs) return;
    this.write(now);
  }

  /**
   * A gap from `fromIso` is being backfilled: until release() the marker says at most `fromIso`, so a
   * crash before the backfill finished (its events only in memory) repeats it on the next start.
   */
  hold(fromIso: string): () => void {
    const at = Date.parse(fromIso);
    if (!Number.isFinite(at)) return () => undefined;
    const id = this.nextHold++;
    this.holds.set(id, at);
    if (this.connectedThisRun && (this.written === undefined || at < this.written)) this.persist(at);
    return () => { this.holds.delete(id); };
  }

  /** On close: records now if the source was connected in this run; else the older moment stays. */
  close(removed = false): void {
    if (removed) { fs.rmSync(this.file, { force: true }); return; }
    if (this.connectedThisRun) this.write(Date.now());
  }

  private write(now: number): void {
    this.lastWrite = now;
    this.persist(Math.min(now, ...this.holds.values()));
  }

  private persist(at: number): void {
    this.written = at;
    // A read-only userDir only costs the restart backfill; the live path goes on.
    writeJsonFileSync(this.file, { connectedUntil: new Date(at).toISOString() });
  }
}
