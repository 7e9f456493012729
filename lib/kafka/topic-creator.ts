// Optional topic creation (demos): the first record for a topic waits until the topic exists.
// One admin call per topic (single-flight); a failure is remembered for a short while so a
// stream of records to an impossible topic fails fast instead of hammering the admin API.
import type { ProducerHandle } from './producer';
import type { OutgoingRecord, RecordMetadata } from './record-sink';
import { configError } from './config';
import { KafkaSendError } from './errors';

export type CreateTopic = (topic: string) => Promise<unknown>;

export class TopicCreator {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly create: CreateTopic, private readonly failureTtlMs = 10_000) {}

  ensure(topic: string): Promise<void> {
    let p = this.ready.get(topic);
    if (!p) {
      p = this.create(topic).then(() => undefined, (err: unknown) => {
        setTimeout(() => this.ready.delete(topic), this.failureTtlMs).unref();
        throw configError((err as Error).message ?? String(err));
      });
      this.ready.set(topic, p);
    }
    return p;
  }

  /** Wraps a handle so each record's topic is ensured before it is queued. */
  wrap(handle: ProducerHandle): ProducerHandle {
    const ensure = (topic: string) => this.ensure(topic);
    return {
      send: (record: OutgoingRecord): Promise<RecordMetadata> => ensure(record.topic).then(
        () => handle.send(record),
        (err: KafkaSendError) => { throw err.forRecord(record.topic, record.key); },
      ),
      flush: (timeoutMs) => handle.flush(timeoutMs),
      status: () => handle.status(),
      on(event, listener) { handle.on(event, listener); return this; },
      off(event, listener) { handle.off(event, listener); return this; },
    };
  }
}
