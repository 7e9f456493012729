import { strict as assert } from 'node:assert';
import { PollPacer } from '../../lib/genesys/eventstream/pacing';

describe('poll pacing', () => {
  it('backs off exponentially from 1 s, capped at 60 s (guide 002 defaults), and resets on success', () => {
    const p = new PollPacer({ jitter: 0 });
    const delays = Array.from({ length: 9 }, () => p.backoff());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    p.reset();
    assert.equal(p.backoff(), 1000);
  });

  it('never retries before Retry-After, even beyond the cap, but clamps absurd values', () => {
    const p = new PollPacer({ jitter: 0, maxRetryAfterMs: 120_000 });
    assert.equal(p.backoff(5000), 5000);
    assert.equal(p.backoff(500), 2000, 'a short Retry-After does not shorten the exponential step');
    assert.equal(p.backoff(90_000), 90_000);
    assert.equal(p.backoff(10 * 3600_000), 120_000);
  });

  it('jitter only shortens a step, by at most the configured fraction', () => {
    let r = 0;
    const p = new PollPacer({ jitter: 0.2, random: () => r });
    r = 0.999;
    assert.ok(p.backoff() >= 800);
    r = 0;
    assert.equal(p.backoff(), 2000);
  });

  it('slows down only when few requests remain, spreading them over the reset window', () => {
    const p = new PollPacer();
    assert.equal(p.pace(undefined), 0);
    assert.equal(p.pace({ remaining: 200, allowed: 300, resetSeconds: 30 }), 0);
    assert.equal(p.pace({ remaining: 29, allowed: 300, resetSeconds: 30 }), 1000);
    assert.equal(p.pace({ remaining: 0, allowed: 300, resetSeconds: 30 }), 30_000);
    assert.equal(p.pace({ remaining: 1 }), 30_000, 'no reset known: a 60 s window is assumed');
    assert.equal(p.pace({ remaining: 0, allowed: 300, resetSeconds: 600 }), 60_000, 'capped at maxMs');
  });
});
