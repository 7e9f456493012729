// Admin calls of the kafka-broker node: the editor's "test connection" (a metadata request)
// and optional topic creation for demos. Short-lived clients, always disconnected.
import { Kafka, logLevel } from 'kafkajs';
import { toKafkaJsConfig, validateSettings, type KafkaClientSettings } from './config';
import { describeError } from './errors';

export interface ConnectionTestResult {
  ok: boolean;
  /** Brokers the cluster reported (host:port), when ok. */
  brokers?: string[];
  controller?: number | null;
  clusterId?: string;
  /** What went wrong, without secrets. */
  error?: string;
}

function adminClient(settings: KafkaClientSettings) {
  const base = toKafkaJsConfig(settings);
  // One quick attempt: the editor waits for the answer.
  return new Kafka({ ...base, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
}

/** Connects and asks for cluster metadata; never throws. */
export async function testConnection(settings: KafkaClientSettings, timeoutMs = 10_000): Promise<ConnectionTestResult> {
  const invalid = validateSettings(settings);
  if (invalid) return { ok: false, error: invalid };
  const admin = adminClient(settings);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); });
    const cluster = await Promise.race([admin.connect().then(() => admin.describeCluster()), timeout]);
    return { ok: true, brokers: cluster.brokers.map((b) => `${b.host}:${b.port}`), controller: cluster.controller, clusterId: cluster.clusterId };
  } catch (err) {
    return { ok: false, error: redact(describeError(err), settings) };
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

export interface TopicSpec { topic: string; partitions: number; replicationFactor: number }

/** Why topic creation failed: the cluster refused it (a setting to fix) or could not be asked (an outage). */
export class TopicCreationError extends Error {
  constructor(message: string, readonly refusedByCluster: boolean) {
    super(message);
    this.name = 'TopicCreationError';
  }
}

/** A refusal carries the broker's error type (per topic for createTopics); anything else never got an answer. */
function refusedByCluster(err: unknown): boolean {
  const e = err as { type?: unknown; errors?: Array<{ type?: unknown }> };
  return typeof e?.type === 'string' || (Array.isArray(e?.errors) && e.errors.some((x) => typeof x?.type === 'string'));
}

/**
 * Creates the topics that do not exist yet; returns the names created. Throws a TopicCreationError
 * with the broker's reason, or with why the cluster could not be reached.
 */
export async function ensureTopics(settings: KafkaClientSettings, specs: TopicSpec[]): Promise<string[]> {
  if (specs.length === 0) return [];
  const admin = adminClient(settings);
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor })),
    });
    return missing.map((s) => s.topic);
  } catch (err) {
    const detail = (err as { errors?: Array<{ topic?: string; message?: string }> }).errors
      ?.map((e) => `${e.topic}: ${e.message}`).join('; ');
    throw new TopicCreationError(redact(`topic creation failed: ${detail || describeError(err)}`, settings), refusedByCluster(err));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Belt and braces: a client error must never echo a secret back to the editor or the log. */
export function redact(text: string, settings: KafkaClientSettings): string {
  let out = text;
  for (const secret of [settings.sasl?.password, settings.tls?.key, settings.tls?.passphrase]) {
    if (secret && secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}
