import { strict as assert } from 'node:assert';
import { ReconnectPolicy } from '../../lib/genesys/reconnect';

describe('ReconnectPolicy (full jitter, capped)', () => {
  it('doubles the ceiling per attempt up to the cap, and reset starts over', () => {
    const p = new ReconnectPolicy({ initialMs: 1000, maxMs: 90_000, jitter: 'none' });
    const seq = Array.from({ length: 10 }, () => p.next());
    assert.deepEqual(seq, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 90000, 90000, 90000]);
    assert.equal(p.attempts, 10);
    p.reset();
    assert.equal(p.attempts, 0);
    assert.equal(p.next(), 1000);
  });

  it('draws uniformly between the floor and the ceiling (full jitter)', () => {
    const lo = new ReconnectPolicy({ initialMs: 100, maxMs: 1000, minMs: 10, random: () => 0 });
    const hi = new ReconnectPolicy({ initialMs: 100, maxMs: 1000, minMs: 10, random: () => 0.999999 });
    assert.deepEqual([lo.next(), lo.next(), lo.next()], [10, 10, 10]);
    assert.deepEqual([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000]);
    const real = new ReconnectPolicy({ initialMs: 500, maxMs: 4000 });
    const draws = Array.from({ length: 2000 }, () => { real.reset(); for (let i = 0; i < 5; i++) real.next(); return real.next(); });
    assert.ok(draws.every((d) => d >= 0 && d <= 4000));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    assert.ok(mean > 1700 && mean < 2300, `mean ${mean}`); // uniform on [0, 4000]
    assert.ok(new Set(draws).size > 500, 'spread, not lockstep');
  });

  it('survives endless outages and odd options', () => {
    const p = new ReconnectPolicy({ initialMs: 1, maxMs: 5000, factor: 10, jitter: 'none' });
    for (let i = 0; i < 10_000; i++) p.next();
    assert.equal(p.next(), 5000);
    const d = new ReconnectPolicy({ initialMs: -5, maxMs: 0, factor: 0.5, jitter: 'none' });
    assert.equal(d.initialMs, 1000);
    assert.equal(d.maxMs, 90_000);
    assert.equal(d.factor, 2);
    assert.equal(d.ceiling(), 1000);
  });
});
