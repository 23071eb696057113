import { describe, expect, it } from 'vitest';
import { AimdLimit } from '../../../src/limit/adaptive/aimd.js';
import type { ConcurrencySample } from '../../../src/limit/adaptive/concurrency-limit.js';

const ok = (now: number, inFlight: number, rttMs = 10): ConcurrencySample => ({ rttMs, inFlight, didDrop: false, now });
const drop = (now: number, rttMs = 10, inFlight = 1): ConcurrencySample => ({ rttMs, inFlight, didDrop: true, now });

describe('AimdLimit', () => {
  it.each([
    [20, 0.9, 18],
    [10, 0.9, 9],
    [5, 0.9, 4],
    [2, 0.9, 1],
    [20, 0.5, 10],
  ])('a drop takes limit %i times backoff %d down to %i', (initial, backoff, after) => {
    const limit = new AimdLimit({ initial, backoff });
    limit.onSample(drop(100));
    expect(limit.limit).toBe(after);
  });

  it('a drop takes off at least 1, however close to 1 backoff is: the product is rounded down', () => {
    const limit = new AimdLimit({ initial: 3, backoff: 0.99 });
    limit.onSample(drop(100));
    expect(limit.limit).toBe(2);
  });

  it('a drop never takes the limit below min', () => {
    const limit = new AimdLimit({ min: 4, initial: 4 });
    limit.onSample(drop(100));
    expect(limit.limit).toBe(4);
  });

  it('an attempt slower than timeout is a drop even though it succeeded; one of exactly timeout is not', () => {
    const limit = new AimdLimit({ initial: 10, timeout: 100 });
    limit.onSample(ok(1_000, 1, 100));
    expect(limit.limit).toBe(10);
    limit.onSample(ok(2_000, 1, 100.5));
    expect(limit.limit).toBe(9);
  });

  it('decreases once per round trip: drops of attempts that started before the last decrease do not decrease again', () => {
    const limit = new AimdLimit({ initial: 20 });
    // Three attempts sent at t=0 fail at 10, 11, 12: one decrease.
    limit.onSample(drop(10, 10));
    limit.onSample(drop(11, 11));
    limit.onSample(drop(12, 12));
    expect(limit.limit).toBe(18);
    // An attempt sent after that decrease (at 11) fails: a second one.
    limit.onSample(drop(20, 9));
    expect(limit.limit).toBe(16);
  });

  it('a drop of unknown length (rtt NaN) counts, as if it had started when it ended', () => {
    const limit = new AimdLimit({ initial: 20 });
    limit.onSample(drop(10, 10));
    limit.onSample(drop(11, Number.NaN));
    expect(limit.limit).toBe(16);
  });

  it('adds 1 per limit-worth of successes while the limit is in use: +1 per round trip at full use', () => {
    const limit = new AimdLimit({ initial: 10 });
    for (let i = 1; i <= 9; i++) limit.onSample(ok(i, 10));
    expect(limit.limit).toBe(10);
    limit.onSample(ok(10, 5));
    expect(limit.limit).toBe(11);
  });

  it('keeps the limit while app-limited: a success that started with fewer than limit / 2 in flight adds nothing', () => {
    const limit = new AimdLimit({ initial: 10 });
    for (let i = 1; i <= 100; i++) limit.onSample(ok(i, 4));
    expect(limit.limit).toBe(10);
  });

  it('never grows past max', () => {
    const limit = new AimdLimit({ initial: 3, max: 4 });
    for (let i = 1; i <= 100; i++) limit.onSample(ok(i, 4));
    expect(limit.limit).toBe(4);
  });

  it('ignores an rtt that is no measurement: Infinity is not a timeout, and a later drop still counts', () => {
    const limit = new AimdLimit({ initial: 10, timeout: 100 });
    limit.onSample(ok(10, 1, Infinity));
    limit.onSample(ok(11, 1, -5));
    expect(limit.limit).toBe(10);
    limit.onSample(drop(20, 5));
    expect(limit.limit).toBe(9);
  });

  it('a clock that steps back does not let old attempts decrease again', () => {
    const limit = new AimdLimit({ initial: 20 });
    limit.onSample(drop(1_000, 10));
    // Reported at 500 (the clock stepped back): taken as 1 000, so it started at 990, before the decrease.
    limit.onSample(drop(500, 10));
    expect(limit.limit).toBe(18);
  });
});
