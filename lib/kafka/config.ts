// Kafka connection settings as the kafka-broker node holds them, validated and turned into
// a kafkajs client config. Secrets stay in here: nothing returned for logs contains them.
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { KafkaSendError } from './errors';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export interface KafkaTlsSettings {
  /** PEM text; empty means the Node.js default CA store. */
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  tls?: KafkaTlsSettings;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_CONNECTION_TIMEOUT_MS = 3000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30000;

/** "host1:9092, host2:9092" (commas, spaces or new lines) → ['host1:9092', 'host2:9092']. */
export function parseBrokers(text: string | string[] | undefined): string[] {
  const list = Array.isArray(text) ? text : String(text ?? '').split(/[\s,]+/);
  return list.map((b) => b.trim()).filter(Boolean);
}

const BROKER_RE = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Returns a message naming the first problem (no secret in it), or null when usable. */
export function validateSettings(s: KafkaClientSettings): string | null {
  if (s.brokers.length === 0) return 'no brokers configured';
  const bad = s.brokers.find((b) => { const m = BROKER_RE.exec(b); return !m || Number(m[2]) < 1 || Number(m[2]) > 65535; });
  if (bad) return `broker address "${bad}" is not host:port`;
  if (s.sasl) {
    if (!SASL_MECHANISMS.includes(s.sasl.mechanism)) return `unsupported SASL mechanism "${s.sasl.mechanism}"`;
    if (!s.sasl.username) return 'SASL needs a username';
    if (!s.sasl.password) return 'SASL needs a password';
  }
  if (s.tls && (!!s.tls.cert !== !!s.tls.key)) return 'TLS client certificate and key must be given together';
  return null;
}

/** The validation error as the error every record of a misconfigured broker fails with. */
export function configError(message: string): KafkaSendError {
  const e = new KafkaSendError(`Kafka configuration: ${message}`, { configError: true });
  e.name = 'KafkaConfigError';
  return e;
}

export function toKafkaJsConfig(s: KafkaClientSettings): KafkaConfig {
  const config: KafkaConfig = {
    brokers: s.brokers,
    clientId: s.clientId || 'node-red-genesys-cloud-kafka',
    connectionTimeout: s.connectionTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // Our queue retries whole batches with its own backoff; kafkajs retries only briefly
    // inside a request (leader moves, metadata refresh) so a dead broker fails fast.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  };
  if (s.tls) {
    config.ssl = {
      rejectUnauthorized: s.tls.rejectUnauthorized,
      ...(s.tls.ca ? { ca: [s.tls.ca] } : {}),
      ...(s.tls.cert ? { cert: s.tls.cert } : {}),
      ...(s.tls.key ? { key: s.tls.key } : {}),
      ...(s.tls.passphrase ? { passphrase: s.tls.passphrase } : {}),
    };
  }
  if (s.sasl) {
    config.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } as SASLOptions;
  }
  return config;
}

/** Settings for logs and the editor: secrets replaced by whether they are set. */
export function describeSettings(s: KafkaClientSettings): Record<string, unknown> {
  return {
    brokers: s.brokers,
    clientId: s.clientId,
    tls: s.tls ? { rejectUnauthorized: s.tls.rejectUnauthorized, ca: !!s.tls.ca, cert: !!s.tls.cert, key: !!s.tls.key } : false,
    sasl: s.sasl ? { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password ? '(set)' : '(empty)' } : false,
    connectionTimeoutMs: s.connectionTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
  };
}

/** The kafka-broker node's editor properties (strings as the editor stores them). */
export interface BrokerNodeProperties {
  brokers?: string;
  clientId?: string;
  usetls?: boolean;
  rejectUnauthorized?: boolean;
  saslMechanism?: string;
  connectionTimeout?: string | number;
  requestTimeout?: string | number;
  /** 'worker' (default): the Kafka client runs in a worker thread; 'main': on Node-RED's thread. */
  clientThread?: string;
}

export interface BrokerNodeCredentials {
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

function positive(v: unknown, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Editor properties + credentials → settings (validate them with validateSettings). */
export function settingsFromNode(p: BrokerNodeProperties, c: BrokerNodeCredentials = {}): KafkaClientSettings {
  const mechanism = String(p.saslMechanism || 'none');
  return {
    brokers: parseBrokers(p.brokers),
    clientId: String(p.clientId || '').trim() || 'node-red-genesys-cloud-kafka',
    tls: p.usetls ? {
      rejectUnauthorized: p.rejectUnauthorized !== false,
      ca: c.ca || undefined, cert: c.cert || undefined, key: c.key || undefined, passphrase: c.passphrase || undefined,
    } : undefined,
    sasl: mechanism === 'none' ? undefined
      : { mechanism: mechanism as SaslMechanism, username: c.username || '', password: c.password || '' },
    connectionTimeoutMs: positive(p.connectionTimeout, DEFAULT_CONNECTION_TIMEOUT_MS),
    requestTimeoutMs: positive(p.requestTimeout, DEFAULT_REQUEST_TIMEOUT_MS),
  };
}
