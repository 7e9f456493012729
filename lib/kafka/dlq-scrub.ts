// Dead letters are read by people and kept for weeks: an error text must never carry a credential.
// Errors from HTTP clients and auth libraries sometimes echo headers, URLs or form bodies, so
// every message and stack trace that leaves this process through the DLQ passes through here.

const REDACTED = '[REDACTED]';

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization headers and bearer/basic credentials anywhere in the text.
  [/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)[^"'\r\n,}]+/gi, `$1$2${REDACTED}`],
  [/\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  // JWTs (three base64url parts, the first one a JSON header).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // key=value / "key": "value" for names that hold secrets (query strings, form bodies, JSON).
  [/\b(access_token|refresh_token|id_token|token|client_secret|secret|password|passwd|api[_-]?key|signing_?secret|sasl[_.]?password)(["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi, `$1$2${REDACTED}`],
  // user:password@ in URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${REDACTED}@`],
];

/** Removes bearer tokens, JWTs, passwords and secrets from a free text. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Scrubs and bounds a text for a Kafka header (headers are kept small: they travel with every fetch). */
export function scrubAndTruncate(text: string, maxChars: number): string {
  const clean = scrubSecrets(text);
  return clean.length > maxChars ? `${clean.slice(0, maxChars - 1)}…` : clean;
}
