// Readiness of what this package connects to: every kafka-broker with users, genesys-config with
// users, and every source registers a check; the health endpoint says ready only when all pass.
// Checks run at request time (no timers); a throwing check counts as not ready.

export interface HealthCheck {
  ready: boolean;
  /** Short state text for operators, never a secret (e.g. "connected", "token refresh failed: 503"). */
  detail?: string;
}

export interface HealthComponent {
  type: string;
  name?: string;
  check(): HealthCheck;
}

export interface ComponentReport { id: string; type: string; name: string; ready: boolean; detail: string }

export type HealthStatus = 'ready' | 'not-ready' | 'starting';

export interface HealthReport {
  status: HealthStatus;
  /** ready: every component; otherwise only those that are not ready. */
  components: ComponentReport[];
}

export class HealthRegistry {
  private readonly components = new Map<string, HealthComponent>();
  /**
   * Whether Node-RED's flows are running (set from flows:started / flows:stopping by the plugin);
   * undefined where nothing tracks it (then only the components count).
   */
  flowsRunning: boolean | undefined;

  /** Adds (or replaces) the component of a node; the returned function removes exactly this one. */
  register(nodeId: string, component: HealthComponent): () => void {
    this.components.set(nodeId, component);
    return () => this.deregister(nodeId, component);
  }

  /** Removes a node's component (only if it is still `component`, when given). */
  deregister(nodeId: string, component?: HealthComponent): void {
    if (component && this.components.get(nodeId) !== component) return;
    this.components.delete(nodeId);
  }

  /** Every registered component checked now. */
  checkAll(): ComponentReport[] {
    const out: ComponentReport[] = [];
    for (const [id, c] of this.components) {
      let r: HealthCheck;
      try {
        r = c.check();
      } catch (err) {
        r = { ready: false, detail: `check failed: ${(err as Error)?.message ?? String(err)}` };
      }
      out.push({ id, type: c.type, name: c.name ?? '', ready: r.ready === true, detail: String(r.detail ?? '').slice(0, 200) });
    }
    return out;
  }

  report(): HealthReport {
    const all = this.checkAll();
    if (this.flowsRunning === false) return { status: 'starting', components: all.filter((c) => !c.ready) };
    const notReady = all.filter((c) => !c.ready);
    return notReady.length ? { status: 'not-ready', components: notReady } : { status: 'ready', components: all };
  }
}
