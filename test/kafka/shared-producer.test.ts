import { strict as assert } from 'node:assert';
import { SharedProducer, createSharedProducer } from '../../lib/kafka/producer';
import { FakeSink, connectionError, protocolError } from './fake-sink';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('kafka shared producer', () => {
  it('connects on first use, reports states, and disconnects after the last user', async () => {
    const sink = new FakeSink();
    const p = new SharedProducer(sink);
    const states: string[] = [];
    p.on('state', (s) => states.push(s));
    const a = p.acquire('a', { lingerMs: 0 });
    p.acquire('b', { lingerMs: 0 });
    await a.send({ topic: 't', key: 'k', value: 'v' });
    assert.equal(sink.connects, 1, 'one connection for both users');
    await p.release('a');
    assert.equal(sink.disconnects, 0);
    await p.release('b');
    assert.equal(sink.disconnects, 1);
    assert.deepEqual(states, ['connecting', 'connected', 'idle']);
  });

  it('goes disconnected when the broker is unreachable and reconnects with backoff', async () => {
    const sink = new FakeSink();
    sink.connectErrors = [connectionError(), connectionError()];
    const p = new SharedProducer(sink, { reconnectMinMs: 10, reconnectMaxMs: 20 });
    const h = p.acquire('a', { lingerMs: 0 });
    await tick(2);
    assert.equal(p.state, 'disconnected');
    assert.match(h.status().error!, /ECONNREFUSED/);
    for (let i = 0; i < 100 && (p.state as string) !== 'connected'; i++) await tick();
    assert.equal(p.state, 'connected');
    assert.equal(sink.connects, 3);
    await p.release('a');
  });

  it('recreates the client producer when the broker lost our producer id', async () => {
    const sink = new FakeSink();
    sink.sendErrors = [protocolError('UNKNOWN_PRODUCER_ID')];
    const p = new SharedProducer(sink, { reconnectMinMs: 5 });
    const h = p.acquire('a', { lingerMs: 0, retryBackoffMs: 1 });
    const meta = await h.send({ topic: 't', key: 'k', value: 'v' });
    assert.equal(meta.offset, '0', 'retried and stored');
    assert.equal(sink.resets, 1);
    await p.release('a');
  });

  it('fails every record of a misconfigured broker with a configuration error', async () => {
    const p = createSharedProducer({ brokers: [], clientId: 'x', connectionTimeoutMs: 100, requestTimeoutMs: 100 }, { reconnectMinMs: 50 });
    const h = p.acquire('a');
    await assert.rejects(h.send({ topic: 't', key: 'k', value: 'v' }), /Kafka configuration: no brokers configured/);
    assert.equal(p.state, 'error');
    await p.release('a');
  });

  it('refuses an unavailable compression codec per record, not by crashing', async () => {
    const p = new SharedProducer(new FakeSink());
    const h = p.acquire('a', { compression: 'snappy' });
    await assert.rejects(h.send({ topic: 't', key: 'k', value: 'v' }), /unknown compression/);
    await p.release('a');
  });
});
