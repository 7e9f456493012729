import { strict as assert } from 'node:assert';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers, uniqueName } from '../fixtures/env';

describe('test harness', () => {
  it('reaches a real Kafka broker that accepts an idempotent acks=all write', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    try {
      const topic = uniqueName('harness');
      const [res] = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
      assert.equal(res.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
  });
});
