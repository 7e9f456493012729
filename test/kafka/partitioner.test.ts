// The partitioner kafkajs-sink gives kafkajs: the same partition as kafkajs' default (murmur2, as
// the Java client) for every key and partition count, with string keys remembered.
import { strict as assert } from 'node:assert';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { taggingPartitioner } from '../../lib/kafka/kafkajs-sink';

const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
const args = (n: number, message: PartitionerArgs['message']): PartitionerArgs => ({ topic: 't', partitionMetadata: metadata(n), message });

describe('kafka: partitioner', () => {
  it('matches kafkajs\' default partitioner for string keys, first time and remembered, across partition counts', () => {
    const ours = taggingPartitioner();
    const stock = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 12, 3]) {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 30_000; i += 7) { // past the cache bound: it is cleared and refilled
          const key = `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;
          const msg: any = { key, value: 'v' };
          assert.equal(ours(args(n, msg)), stock(args(n, { key, value: 'v' })), `${key} over ${n} partitions`);
          assert.equal(msg._partition, ours(args(n, { key, value: 'v' })), 'tags the message with its partition');
        }
      }
    }
  });

  it('an explicit partition wins; Buffer keys hash as their bytes; no key goes round robin', () => {
    const ours = taggingPartitioner();
    const stock = Partitioners.DefaultPartitioner();
    assert.equal(ours(args(6, { key: 'k', value: 'v', partition: 4 })), 4);
    assert.equal(ours(args(6, { key: Buffer.from('conv-9'), value: 'v' })), stock(args(6, { key: 'conv-9', value: 'v' })));
    const seen = new Set(Array.from({ length: 12 }, () => ours(args(6, { key: null, value: 'v' }))));
    assert.equal(seen.size, 6, 'keyless messages spread over every partition');
  });
});
