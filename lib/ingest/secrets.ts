// Where webhook signing secrets come from: node credentials, environment variables, or a file
// that is re-read when it changes (a mounted Kubernetes/Vault secret), so that a rotation
// (current + previous secret during the overlap, then the new one only) needs no restart.
// Guide 000's trap: verification that caches its secret at start breaks on the first rotation.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SecretSet } from './jwt';

/** 'text': the secret's UTF-8 bytes are the HMAC key (what guide 000's PyJWT code does with
 *  "YOUR_BASE64_ENCODED_SECRET"); 'base64': the text is base64 and its decoded bytes are the key. */
export type SecretEncoding = 'text' | 'base64';

export function decodeSecret(text: string, encoding: SecretEncoding): Buffer {
  const t = text.trim();
  if (!t) throw new Error('empty secret');
  if (encoding === 'text') return Buffer.from(t, 'utf8');
  const compact = t.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) throw new Error('secret is not valid base64');
  const key = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length === 0) throw new Error('secret decodes to nothing');
  return key;
}

/** Secrets that do not change while the node runs (credentials, environment variables). */
export class StaticSecrets implements SecretSet {
  readonly version = 1;
  private readonly keys: Buffer[];
  constructor(texts: (string | undefined)[], encoding: SecretEncoding = 'text') {
    this.keys = texts.filter((t): t is string => !!t && !!t.trim()).map((t) => decodeSecret(t, encoding));
  }
  secrets(): readonly Buffer[] { return this.keys; }
  /** Shortest key in bytes (HS256 wants at least 32). */
  get shortestKey(): number { return Math.min(...this.keys.map((k) => k.length)); }
}

/** Reads secrets from environment variables named in `names` (read once: a process's env does not change). */
export function secretsFromEnv(names: string[], encoding: SecretEncoding = 'text', env: NodeJS.ProcessEnv = process.env): StaticSecrets {
  return new StaticSecrets(names.map((n) => env[n]), encoding);
}

export interface FileSecretsOptions {
  encoding?: SecretEncoding;
  /** stat() poll interval as a fallback for fs.watch (network filesystems, symlink swaps), ms. Default 2000. */
  pollMs?: number;
}

/**
 * A file with one secret per line (blank lines and lines starting with # are ignored): during a
 * rotation it holds the new and the previous secret, afterwards only the new one.
 * Emits 'change' (secret count) after a successful re-read and 'error' (Error) when the file cannot be
 * used; on error the last good secrets stay active, so a half-written file never locks senders out.
 */
export class FileSecrets extends EventEmitter implements SecretSet {
  private keys: Buffer[] = [];
  private ver = 0;
  private lastStamp = '';
  private watcher: fs.FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private reading = false;
  private closed = false;
  /** Why the last read failed (no secret text in it), or null. */
  lastError: string | null = null;

  constructor(readonly file: string, private readonly opts: FileSecretsOptions = {}) {
    super();
  }

  get version(): number { return this.ver; }
  secrets(): readonly Buffer[] { return this.keys; }

  /** First read (throws if the file cannot be used at all), then watches it. */
  start(): this {
    this.readNow(true);
    // Watching the directory also sees atomic replacements (rename over, Kubernetes ..data swaps).
    try {
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, () => this.check());
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = null; });
    } catch { /* polling below still works */ }
    this.poller = setInterval(() => this.check(), this.opts.pollMs ?? 2000);
    this.poller.unref();
    return this;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }

  /** Re-reads when the file's identity, size or mtime changed. */
  check(): void {
    if (this.closed || this.reading) return;
    let stamp: string;
    try {
      const st = fs.statSync(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      this.fail(`cannot read secrets file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return;
    }
    if (stamp !== this.lastStamp) this.readNow(false);
  }

  private readNow(first: boolean): void {
    this.reading = true;
    try {
      const st = fs.statSync(this.file);
      const text = fs.readFileSync(this.file, 'utf8');
      const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      if (lines.length === 0) throw new Error('secrets file holds no secret');
      const keys = lines.map((l) => decodeSecret(l, this.opts.encoding ?? 'text'));
      this.lastStamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      const same = keys.length === this.keys.length && keys.every((k, i) => k.equals(this.keys[i]));
      this.lastError = null;
      if (!same) {
        this.keys = keys;
        this.ver++;
        if (!first) this.emit('change', keys.length);
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const msg = e.code ? `cannot read secrets file: ${e.code}` : e.message;
      if (first) { this.reading = false; throw new Error(msg); }
      this.fail(msg);
    } finally {
      this.reading = false;
    }
  }

  private fail(msg: string): void {
    if (this.lastError === msg) return;
    this.lastError = msg;
    if (this.listenerCount('error') > 0) this.emit('error', new Error(msg));
  }
}

/** Several sources as one set (e.g. a credential plus a file). */
export class CombinedSecrets implements SecretSet {
  private seen = '';
  private ver = 0;
  private keys: readonly Buffer[] = [];
  constructor(private readonly sources: SecretSet[]) { this.refresh(); }
  get version(): number { this.refresh(); return this.ver; }
  secrets(): readonly Buffer[] { this.refresh(); return this.keys; }
  private refresh(): void {
    const stamp = this.sources.map((s) => s.version).join(':');
    if (stamp === this.seen) return;
    this.seen = stamp;
    this.ver++;
    this.keys = this.sources.flatMap((s) => s.secrets());
  }
}
