// Classifies client errors into what the producer must do next (retry, reconnect, recreate,
// give up) and carries the record's topic and key to the Node-RED message's error.

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound', 'KafkaJSMetadataNotLoaded',
]);
// Broker answers that mean our idempotent producer id/epoch/sequence is no longer valid there.
const PRODUCER_STATE_ERRORS = new Set([
  'UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING',
]);
// Errors that no retry fixes: the configuration is wrong.
const CONFIG_ERRORS = new Set([
  'KafkaJSSASLAuthenticationError', 'SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM',
  'CLUSTER_AUTHORIZATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED', 'KafkaConfigError',
]);

export interface ErrorClass {
  retriable: boolean;
  connectionLost: boolean;
  producerFenced: boolean;
  configError: boolean;
}

/** Walks the cause chain (kafkajs wraps the last error in KafkaJSNumberOfRetriesExceeded). */
function chain(err: unknown): any[] {
  const out: any[] = [];
  let e: any = err;
  for (let i = 0; e && typeof e === 'object' && i < 6; i++) {
    out.push(e);
    e = e.cause ?? e.originalError;
  }
  return out;
}

export function classifyError(err: unknown): ErrorClass {
  if (err instanceof KafkaSendError) return err;
  const all = chain(err);
  const root = all[all.length - 1] ?? {};
  const names = all.flatMap((e) => [e.name, e.type]).filter(Boolean) as string[];
  const configError = names.some((n) => CONFIG_ERRORS.has(n))
    || /SASL|authenticat|certificate|self[- ]signed|SSL|TLS/i.test(String(root.message ?? ''));
  const producerFenced = names.some((n) => PRODUCER_STATE_ERRORS.has(n));
  const connectionLost = names.some((n) => CONNECTION_ERRORS.has(n)) || /disconnected|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(String(root.message ?? ''));
  // The root's own flag decides (the retries-exceeded wrapper is always non-retriable).
  const retriable = !configError && (producerFenced || connectionLost || root.retriable === true);
  return { retriable, connectionLost, producerFenced, configError };
}

/** A readable one-line description; kafkajs messages carry no credentials. */
export function describeError(err: unknown): string {
  const all = chain(err);
  const top: any = all[0];
  if (!top) return String(err);
  const root: any = all[all.length - 1];
  const msg = String(top.message ?? top);
  return root !== top && root?.message && !msg.includes(root.message) ? `${msg}: ${root.message}` : msg;
}

/** The error a record's promise rejects with; Node-RED shows message and puts topic/key beside it. */
export class KafkaSendError extends Error implements ErrorClass {
  retriable: boolean;
  connectionLost: boolean;
  producerFenced: boolean;
  configError: boolean;
  topic?: string;
  key?: string;
  override cause?: unknown;

  constructor(message: string, cls: Partial<ErrorClass> = {}, cause?: unknown) {
    super(message);
    this.name = 'KafkaSendError';
    this.retriable = cls.retriable ?? false;
    this.connectionLost = cls.connectionLost ?? false;
    this.producerFenced = cls.producerFenced ?? false;
    this.configError = cls.configError ?? false;
    this.cause = cause;
  }

  static from(err: unknown): KafkaSendError {
    if (err instanceof KafkaSendError) return err;
    return new KafkaSendError(describeError(err), classifyError(err), err);
  }

  /** A copy for one record, so each message's error names its own topic and key. */
  forRecord(topic: string, key: string | Buffer | null | undefined): KafkaSendError {
    const e = new KafkaSendError(this.message, this, this.cause);
    e.topic = topic;
    e.key = key == null ? undefined : String(key);
    return e;
  }
}
