// Reads the DLQ topic back, from a start point up to the end it had when the replay started
// (so events that fail again and return to the DLQ are not replayed in a loop), and hands the
// parsed dead letters over in batches. Offsets are committed only after the caller's
// deliver() resolved (the dlq-replay node resolves it when kafka-out or dlq settled the events),
// so a stopped or crashed replay resumes where it was, with the same consumer group.
import { EventEmitter } from 'node:events';
import { Kafka, logLevel, type Consumer, type KafkaConfig } from 'kafkajs';
import { parseDeadLetter, type ParsedDeadLetter } from './dlq-record';
import type { FailureReason } from './retry-classification';

export type ReplayStart = 'committed' | 'earliest' | 'timestamp';

export interface ReplayOptions {
  topic: string;
  groupId: string;
  /** committed: resume the group (earliest where it has no offset); earliest; timestamp: from `fromTime`. */
  from: ReplayStart;
  /** Epoch ms for from = 'timestamp'. */
  fromTime?: number;
  /** Only these reasons are replayed; others are skipped (and committed). Empty: all. */
  reasons?: ReadonlySet<FailureReason | string>;
  /** Dead letters per deliver() call (default 500). */
  maxBatch?: number;
  /** Hands a batch over; offsets are committed after it resolves. A rejection stops the replay. */
  deliver(batch: ParsedDeadLetter[]): Promise<void>;
}

export interface PartitionRange { partition: number; from: string; to: string }

export interface ReplaySummary {
  topic: string;
  groupId: string;
  replayed: number;
  skipped: number;
  partitions: PartitionRange[];
  stopped: boolean;
  durationMs: number;
}

export class DlqReplayer extends EventEmitter {
  private consumer: Consumer | null = null;
  private stopping = false;
  private finish: ((stopped: boolean) => void) | null = null;
  replayed = 0;
  skipped = 0;
  total = 0;

  constructor(private readonly kafkaConfig: KafkaConfig, private readonly opts: ReplayOptions) {
    super();
  }

  /** Runs the replay to the end offsets seen at start (or until stop()); never leaves a consumer behind. */
  async run(): Promise<ReplaySummary> {
    const started = Date.now();
    const kafka = new Kafka({ ...this.kafkaConfig, logLevel: logLevel.NOTHING });
    const ranges = await this.plan(kafka);
    const next = new Map(ranges.map((r) => [r.partition, BigInt(r.from)]));
    const end = new Map(ranges.map((r) => [r.partition, BigInt(r.to)]));
    const open = new Set(ranges.filter((r) => BigInt(r.from) < BigInt(r.to)).map((r) => r.partition));
    this.total = ranges.reduce((n, r) => n + Math.max(0, Number(BigInt(r.to) - BigInt(r.from))), 0);
    const summary = (stopped: boolean): ReplaySummary => ({
      topic: this.opts.topic, groupId: this.opts.groupId, replayed: this.replayed, skipped: this.skipped,
      partitions: ranges, stopped, durationMs: Date.now() - started,
    });
    if (open.size === 0 || this.stopping) return summary(this.stopping);

    const consumer = kafka.consumer({ groupId: this.opts.groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    this.consumer = consumer;
    const finished = new Promise<boolean>((resolve) => { this.finish = resolve; });
    let failure: unknown;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const p = batch.partition;
          const stop = end.get(p) ?? 0n;
          const chunk: ParsedDeadLetter[] = [];
          let last: bigint | null = null;
          const flush = async (): Promise<void> => {
            if (last === null || failure) return;
            if (chunk.length > 0) {
              try {
                const n = chunk.length;
                await this.opts.deliver(chunk.splice(0));
                this.replayed += n;
              } catch (err) {
                // Not delivered: not committed; the replay stops and resumes here next time.
                failure = err;
                this.stopping = true;
                this.finish?.(true);
                return;
              }
            }
            await consumer.commitOffsets([{ topic: batch.topic, partition: p, offset: (last + 1n).toString() }]);
            resolveOffset(last.toString());
            next.set(p, last + 1n);
            this.emit('progress', this.replayed + this.skipped, this.total);
            await heartbeat();
          };
          for (const m of batch.messages) {
            if (!isRunning() || isStale() || this.stopping || failure) break;
            const offset = BigInt(m.offset);
            if (offset < (next.get(p) ?? 0n)) continue; // before the start point
            if (offset >= stop) break;
            const parsed = parseDeadLetter({ ...m, topic: batch.topic, partition: p });
            if (this.opts.reasons && this.opts.reasons.size > 0 && !this.opts.reasons.has(parsed.context.reason)) this.skipped++;
            else chunk.push(parsed);
            last = offset;
            if (chunk.length >= (this.opts.maxBatch ?? 500)) await flush();
          }
          await flush();
          if ((next.get(p) ?? 0n) >= stop && open.delete(p)) {
            consumer.pause([{ topic: batch.topic, partitions: [p] }]);
            if (open.size === 0) this.finish?.(false);
          }
        },
      });
      // Explicit start points for every partition (the group's own offsets only in 'committed' mode).
      for (const r of ranges) if (open.has(r.partition)) consumer.seek({ topic: this.opts.topic, partition: r.partition, offset: r.from });
      consumer.on(consumer.events.CRASH, (e) => { failure = e.payload.error; this.finish?.(true); });
      const stopped = await finished;
      if (failure) throw failure;
      return summary(stopped);
    } finally {
      this.consumer = null;
      this.finish = null;
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /** Start and end offset per partition: the end is the high watermark now. */
  private async plan(kafka: Kafka): Promise<PartitionRange[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topicOffsets = await admin.fetchTopicOffsets(this.opts.topic);
      let starts = new Map<number, string>(topicOffsets.map((o) => [o.partition, o.low]));
      if (this.opts.from === 'timestamp') {
        const byTime = await admin.fetchTopicOffsetsByTimestamp(this.opts.topic, this.opts.fromTime ?? 0);
        starts = new Map(byTime.map((o) => [o.partition, o.offset]));
      } else if (this.opts.from === 'committed') {
        const [committed] = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.topic] });
        for (const p of committed?.partitions ?? []) if (BigInt(p.offset) >= 0n) starts.set(p.partition, p.offset);
      }
      return topicOffsets.map((o) => {
        const low = BigInt(o.low);
        const from = BigInt(starts.get(o.partition) ?? o.low);
        return { partition: o.partition, from: (from < low ? low : from).toString(), to: o.high };
      }).sort((a, b) => a.partition - b.partition);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops after the batch under way (its offsets are committed only if it was delivered). */
  stop(): void {
    this.stopping = true;
    this.finish?.(true);
  }
}
