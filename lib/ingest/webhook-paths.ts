// The HTTP paths webhook nodes listened on, kept in a small file so that they outlive a crash.
// Node-RED answers HTTP before a cold start has started its flows; a 404 in that window is final
// for the sender (guide 000 retries only 429 and 5xx), so the paths of the last run answer 503 +
// Retry-After until the flows are up (see genesys-webhook-in).
import { readJsonFileSync, writeJsonFileSync } from '../json-file';

export class WebhookPathsFile {
  private readonly byNode: Record<string, string>;

  constructor(private readonly file: string) {
    const read = readJsonFileSync(file);
    this.byNode = {};
    if (read && typeof read === 'object' && !Array.isArray(read)) {
      for (const [id, p] of Object.entries(read)) if (typeof p === 'string' && p.startsWith('/')) this.byNode[id] = p;
    }
  }

  /** The distinct paths of the last run. */
  paths(): string[] {
    return [...new Set(Object.values(this.byNode))];
  }

  set(nodeId: string, p: string): void {
    if (this.byNode[nodeId] === p) return;
    this.byNode[nodeId] = p;
    this.write();
  }

  /** The node left the flows: its path is not held on the next start. */
  delete(nodeId: string): void {
    if (!(nodeId in this.byNode)) return;
    delete this.byNode[nodeId];
    this.write();
  }

  private write(): void {
    // A read-only userDir only costs the cold-start 503s; the live path goes on.
    writeJsonFileSync(this.file, this.byNode);
  }
}
