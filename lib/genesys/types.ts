// Contracts shared by every node that talks to Genesys Cloud. genesys-config provides both.

/** OAuth client-credentials tokens, one manager per genesys-config, shared by its users. */
export interface TokenProvider {
  /** A valid access token; concurrent callers share one in-flight refresh (single-flight). */
  getToken(): Promise<string>;
  /** Marks this token as rejected (an API answered 401) so the next getToken() refreshes. */
  invalidate(token: string): void;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'PATCH';
  /** Path below the API base, e.g. /api/v2/notifications/channels */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Per-request timeout, default 15 s. */
  timeoutMs?: number;
  /** Statuses returned to the caller instead of thrown (e.g. [404] for HEAD checks). */
  acceptStatus?: number[];
  /** How many 429/5xx retries before giving up (default 3). 401 is always refreshed and retried once. */
  maxRetries?: number;
  signal?: AbortSignal;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
  /** Parsed rate-limit state from inin-ratelimit-* or X-RateLimit-* headers, when present. */
  rateLimit?: { remaining?: number; allowed?: number; resetSeconds?: number };
}

/** The one small Genesys API client every node uses (token, timeouts, 429/Retry-After, 5xx backoff). */
export interface GenesysApi {
  readonly apiBase: string;
  request<T = any>(req: ApiRequest): Promise<ApiResponse<T>>;
}

/** Thrown for answers the client does not retry or gave up on; never carries the token. */
export class GenesysApiError extends Error {
  constructor(message: string, readonly status: number, readonly body?: unknown, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'GenesysApiError';
  }
}
