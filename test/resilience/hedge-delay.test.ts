import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { HedgeDelays } from '../../src/resilience/hedge-delay.js';
import { HEDGE_MIN_SAMPLES, hedgePolicy, type HedgePolicy } from '../../src/resilience/hedge-policy.js';

const median: HedgePolicy = hedgePolicy({ delay: { quantile: 0.5, min: 10, max: 1_000 } })!;

function recordMany(delays: HedgeDelays, method: string, ms: number, times = HEDGE_MIN_SAMPLES): void {
  for (let i = 0; i < times; i++) delays.record(method, ms);
}

/** The histogram reports a bucket's upper bound: at most 10 % above the latency recorded. */
function expectBucketOf(delay: number, ms: number): void {
  expect(delay).toBeGreaterThanOrEqual(ms);
  expect(delay).toBeLessThanOrEqual(ms * 1.1);
}

describe('HedgeDelays', () => {
  it('a fixed delay is the delay, whatever the samples', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'get', 500);
    expect(delays.delay(hedgePolicy({ delay: 40 })!, 'get')).toBe(40);
  });

  it('a quantile delay is max until the method has 20 samples', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'get', 100, 19);
    expect(delays.delay(median, 'get')).toBe(1_000);
    delays.record('get', 100);
    expectBucketOf(delays.delay(median, 'get'), 100);
  });

  it('the quantile is clamped to [min, max]', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'fast', 1);
    recordMany(delays, 'slow', 60_000);
    expect(delays.delay(median, 'fast')).toBe(10);
    expect(delays.delay(median, 'slow')).toBe(1_000);
  });

  it('each method has its own latency', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'get', 50);
    recordMany(delays, 'scan', 500);
    expectBucketOf(delays.delay(median, 'get'), 50);
    expectBucketOf(delays.delay(median, 'scan'), 500);
  });

  it('past maxMethods, new methods share one overflow histogram', () => {
    const delays = new HedgeDelays(2);
    recordMany(delays, 'a', 50);
    recordMany(delays, 'b', 50);
    recordMany(delays, 'c', 500);
    expect(delays.size).toBe(3);
    // d was never recorded, but it hedges on what c (another method past the cap) recorded.
    expectBucketOf(delays.delay(median, 'd'), 500);
    expectBucketOf(delays.delay(median, 'a'), 50);
  });

  it('200 000 distinct methods keep at most maxMethods + 1 histograms', () => {
    const delays = new HedgeDelays();
    for (let i = 0; i < 200_000; i++) delays.record(`GET /users/${i}`, 5);
    expect(delays.size).toBe(1_001);
  });

  it('asking for the delay of a method gives it no histogram', () => {
    const delays = new HedgeDelays(1);
    expect(delays.delay(median, 'never-recorded')).toBe(1_000);
    delays.record('get', 50);
    expect(delays.size).toBe(1);
  });

  it('a call that took 0 ms is a sample: a method faster than the clock can tell hedges at min', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'cached', 0);
    expect(delays.size).toBe(1);
    expect(delays.delay(median, 'cached')).toBe(10);
  });

  it('ignores NaN and negative durations', () => {
    const delays = new HedgeDelays();
    recordMany(delays, 'get', Number.NaN);
    recordMany(delays, 'get', -5);
    expect(delays.delay(median, 'get')).toBe(1_000);
    expect(delays.size).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN])('refuses maxMethods %s with an InvalidOptionError naming maxMethods and the value', (max) => {
    expect(() => new HedgeDelays(max)).toThrow(InvalidOptionError);
    expect(() => new HedgeDelays(max)).toThrow(expect.objectContaining({ option: 'maxMethods', value: max }));
  });
});
