// Optional topic creation (demos): the first record for a topic waits until the topic exists.
// One admin call per topic (single-flight); a refusal is remembered for a short while so a
// stream of records to an impossible topic fails fast instead of hammering the admin API.
// A cluster that cannot be reached is an outage, not a setting: the records go on to the producer,
// which holds and retries them like every record during an outage, and creation is tried again soon.
import type { ProducerHandle } from './producer';
import type { OutgoingRecord, RecordMetadata } from './record-sink';
import { configError } from './config';
import { KafkaSendError } from './errors';

export type CreateTopic = (topic: string) => Promise<unknown>;

export class TopicCreator {
  private readonly ready = new Map<string, Promise<void>>();

  /**
   * @param failureTtlMs how long a refusal is remembered
   * @param unreachableRetryMs how long records pass straight on after the cluster could not be reached
   */
  constructor(private readonly create: CreateTopic, private readonly failureTtlMs = 10_000, private readonly unreachableRetryMs = 1000) {}

  ensure(topic: string): Promise<void> {
    let p = this.ready.get(topic);
    if (!p) {
      p = this.create(topic).then(() => undefined, (err: unknown) => {
        const refused = (err as { refusedByCluster?: unknown }).refusedByCluster !== false;
        setTimeout(() => this.ready.delete(topic), refused ? this.failureTtlMs : this.unreachableRetryMs).unref();
        if (refused) throw configError((err as Error).message ?? String(err));
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
