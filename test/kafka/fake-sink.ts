// An in-memory KafkaRecordSink for unit tests: records every call, fails on demand, can hold calls.
import type { KafkaRecordSink, OutgoingRecord, RecordMetadata, SendOptions } from '../../lib/kafka/record-sink';

export class FakeSink implements KafkaRecordSink {
  calls: OutgoingRecord[][] = [];
  options: SendOptions[] = [];
  connects = 0;
  resets = 0;
  disconnects = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Errors thrown by the next send() calls, in order. */
  sendErrors: Array<unknown | ((records: OutgoingRecord[]) => unknown)> = [];
  connectErrors: unknown[] = [];
  /** When set, send() waits for this promise. */
  gate: Promise<void> | null = null;
  private offsets = new Map<string, number>();

  async connect(): Promise<void> {
    this.connects++;
    const e = this.connectErrors.shift();
    if (e) throw e;
  }

  async send(records: OutgoingRecord[], options: SendOptions = {}): Promise<RecordMetadata[]> {
    this.calls.push(records);
    this.options.push(options);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      await new Promise((r) => setImmediate(r));
      let e = this.sendErrors.shift();
      if (typeof e === 'function') e = e(records);
      if (e) throw e;
      return records.map((r) => {
        const offset = this.offsets.get(r.topic) ?? 0;
        this.offsets.set(r.topic, offset + 1);
        return { topic: r.topic, partition: 0, offset: String(offset) };
      });
    } finally {
      this.inFlight--;
    }
  }

  async reset(): Promise<void> { this.resets++; }
  async disconnect(): Promise<void> { this.disconnects++; }
  describe(): Record<string, unknown> { return { client: 'fake' }; }

  /** Holds every send until the returned function is called. */
  hold(): () => void {
    let open!: () => void;
    this.gate = new Promise<void>((r) => { open = r; });
    return () => { this.gate = null; open(); };
  }

  get sentRecords(): OutgoingRecord[] { return this.calls.flat(); }
}

/** A kafkajs-like retriable connection error. */
export function connectionError(): Error {
  const e = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1') as Error & { retriable: boolean };
  e.name = 'KafkaJSConnectionError';
  e.retriable = true;
  return e;
}

/** A kafkajs-like non-retriable protocol error. */
export function protocolError(type: string, retriable = false): Error {
  const e = new Error(`The request failed: ${type}`) as Error & { retriable: boolean; type: string };
  e.name = 'KafkaJSProtocolError';
  e.type = type;
  e.retriable = retriable;
  return e;
}
