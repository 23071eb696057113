import { describe, expect, it } from 'vitest';
import type { ConcurrencySample } from '../../../src/limit/adaptive/concurrency-limit.js';
import { Gradient2Limit, type Gradient2LimitOptions } from '../../../src/limit/adaptive/gradient2.js';

type Options = Omit<Gradient2LimitOptions, 'adaptive'>;

/** Every sample is a window of its own: the rules can be checked one window at a time. */
const perSample = (options: Options = {}): Gradient2Limit => new Gradient2Limit({ windowMs: 0, windowSamples: 1, ...options });

let clock = 0;
const ok = (rttMs: number, inFlight: number): ConcurrencySample => ({ rttMs, inFlight, didDrop: false, now: (clock += 1) });
const drop = (inFlight: number, rttMs = 1): ConcurrencySample => ({ rttMs, inFlight, didDrop: true, now: (clock += 1) });

/** Ten app-limited windows of `rttMs`: the long-term round trip is then `rttMs`, the limit unchanged. */
function warm(limit: Gradient2Limit, rttMs = 20): Gradient2Limit {
  for (let i = 0; i < 10; i++) limit.onSample(ok(rttMs, 0));
  return limit;
}

describe('Gradient2Limit', () => {
  it('seeds the long-term round trip with the least of the first 10 windows', () => {
    const limit = perSample();
    for (const rtt of [30, 20, 25, 40, 40, 40, 40, 40, 40, 40]) limit.onSample(ok(rtt, 0));
    expect(limit.longRtt).toBe(20);
  });

  it('then averages it exponentially over longWindow windows: a factor of 2 / (longWindow + 1)', () => {
    const limit = warm(perSample({ longWindow: 3 }));
    limit.onSample(ok(24, 0));
    expect(limit.longRtt).toBe(22);
  });

  it('moves it at a tenth of that pace on a congested window (slower than rttTolerance times it)', () => {
    const limit = warm(perSample({ longWindow: 3 }));
    limit.onSample(ok(40, 0));
    expect(limit.longRtt).toBeCloseTo(21, 10);
  });

  it('brings a stale long-term round trip down by 0.95 a window while it is more than twice the window', () => {
    const limit = warm(perSample({ longWindow: 600 }), 100);
    limit.onSample(ok(20, 0));
    expect(limit.longRtt).toBeCloseTo((100 + (20 - 100) * (2 / 601)) * 0.95, 10);
    const stale = limit.longRtt;
    limit.onSample(ok(stale / 2, 0));
    // Exactly twice is not stale: only the exponential average moves it.
    expect(limit.longRtt).toBeCloseTo(stale + (stale / 2 - stale) * (2 / 601), 10);
  });

  it('shrinks by the gradient rttTolerance * longRtt / shortRtt, smoothed: 100 at 2x latency gives 100 * 0.8 + 75 * 0.2', () => {
    const limit = warm(perSample({ initial: 100, queueSize: 0, longWindow: 1e9 }));
    limit.onSample(ok(40, 100));
    expect(limit.limit).toBe(95);
    const whole = warm(perSample({ initial: 100, queueSize: 0, longWindow: 1e9, smoothing: 1 }));
    whole.onSample(ok(40, 100));
    expect(whole.limit).toBe(75);
  });

  it('never cuts by more than half in a window, however slow it was', () => {
    const limit = warm(perSample({ initial: 100, queueSize: 0, longWindow: 1e9, smoothing: 1 }));
    limit.onSample(ok(100_000, 100));
    expect(limit.limit).toBe(50);
  });

  it('takes up to rttTolerance times the long-term round trip as no queueing: the limit grows by queueSize', () => {
    const limit = warm(perSample({ initial: 10, queueSize: 4 }));
    limit.onSample(ok(30, 10));
    expect(limit.limit).toBe(14);
  });

  it('takes growth whole, not smoothed', () => {
    const limit = warm(perSample({ initial: 10, queueSize: 4, smoothing: 0.2 }));
    limit.onSample(ok(20, 10));
    expect(limit.limit).toBe(14);
  });

  it('does not grow while app-limited (fewer than limit / 2 in flight), but still shrinks', () => {
    const limit = warm(perSample({ initial: 10, queueSize: 4, smoothing: 1 }));
    limit.onSample(ok(20, 4));
    expect(limit.limit).toBe(10);
    limit.onSample(ok(20, 5));
    expect(limit.limit).toBe(14);
    // 14 * 0.5 + 4
    limit.onSample(ok(80, 1));
    expect(limit.limit).toBe(11);
  });

  it('uses the most in flight of the window for app-limitation', () => {
    const limit = warm(perSample({ initial: 10, queueSize: 4 }));
    const windowed = new Gradient2Limit({ initial: 10, queueSize: 4, windowMs: 0, windowSamples: 3 });
    for (let i = 0; i < 30; i++) windowed.onSample(ok(20, 0));
    windowed.onSample(ok(20, 1));
    windowed.onSample(ok(20, 6));
    windowed.onSample(ok(20, 2));
    expect(windowed.limit).toBe(14);
    expect(limit.limit).toBe(10);
  });

  it('shrinks by half (smoothed) a window in which every attempt dropped, with no growth allowance', () => {
    const limit = warm(perSample({ initial: 100, queueSize: 4, longWindow: 1e9 }));
    limit.onSample(drop(100));
    expect(limit.limit).toBe(90);
  });

  it('takes a share d of drops as a gradient of at most 1 - d and a growth of queueSize * (1 - d)', () => {
    const limit = warm(new Gradient2Limit({ initial: 100, queueSize: 10, smoothing: 1, windowMs: 0, windowSamples: 10 }));
    for (let i = 0; i < 8; i++) limit.onSample(ok(20, 100));
    limit.onSample(drop(100));
    limit.onSample(drop(100));
    // 100 * 0.8 + 10 * 0.8
    expect(limit.limit).toBe(88);
  });

  it('leaves a dropped attempt out of the round trips: a fast failure does not lower the long-term one', () => {
    const limit = warm(perSample());
    for (let i = 0; i < 10; i++) limit.onSample(drop(0, 1));
    expect(limit.longRtt).toBe(20);
  });

  it('never goes below min nor above max', () => {
    const low = warm(perSample({ min: 3, initial: 4, smoothing: 1 }));
    for (let i = 0; i < 10; i++) low.onSample(drop(4));
    expect(low.limit).toBe(3);
    const high = warm(perSample({ max: 12, initial: 10, queueSize: 4 }));
    for (let i = 0; i < 10; i++) high.onSample(ok(20, 12));
    expect(high.limit).toBe(12);
  });

  it('ends a window only once it has windowSamples attempts and has lasted windowMs', () => {
    const limit = new Gradient2Limit({ initial: 10, queueSize: 4, windowMs: 1_000, windowSamples: 3 });
    const at = (now: number): ConcurrencySample => ({ rttMs: 20, inFlight: 10, didDrop: false, now });
    limit.onSample(at(0));
    limit.onSample(at(100));
    limit.onSample(at(200));
    expect(limit.limit).toBe(10);
    limit.onSample(at(999));
    expect(limit.limit).toBe(10);
    limit.onSample(at(1_000));
    expect(limit.limit).toBe(14);
    // The next window starts at 1 000: three more attempts by 2 000 end it.
    limit.onSample(at(1_500));
    limit.onSample(at(1_999));
    limit.onSample(at(2_000));
    expect(limit.limit).toBe(18);
  });

  it('calls a queueSize function with the current limit', () => {
    const seen: number[] = [];
    const limit = warm(
      perSample({
        initial: 10,
        queueSize: (l) => {
          seen.push(l);
          return l / 2;
        },
      }),
    );
    limit.onSample(ok(20, 10));
    expect(limit.limit).toBe(15);
    expect(seen.at(-1)).toBe(10);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['returns NaN', () => Number.NaN],
    ['returns a negative number', () => -3],
    ['returns a string', () => '5' as unknown as number],
  ])('counts a queueSize function that %s as the default, 2, and does not throw', (_label, queueSize) => {
    const limit = warm(perSample({ initial: 10, queueSize }));
    expect(() => limit.onSample(ok(20, 10))).not.toThrow();
    expect(limit.limit).toBe(12);
  });

  it('ignores a round trip that is no measurement (NaN, negative, Infinity): the averages stay as they were', () => {
    const limit = warm(perSample({ initial: 10 }));
    for (const rtt of [Number.NaN, -1, Infinity, -Infinity]) limit.onSample(ok(rtt, 0));
    expect(limit.longRtt).toBe(20);
    expect(limit.limit).toBe(10);
  });

  it('reads a window of instant answers (0 ms) as no queueing, and does not learn it as the long-term round trip', () => {
    const limit = warm(perSample({ initial: 10, queueSize: 4 }));
    limit.onSample(ok(0, 10));
    expect(limit.limit).toBe(14);
    expect(limit.longRtt).toBe(20);
    const first = perSample();
    first.onSample(ok(0, 0));
    warm(first);
    expect(first.longRtt).toBe(20);
  });

  it('cuts a huge round trip to 2^31-1 ms, so that a window of them keeps the averages finite', () => {
    const limit = warm(warm(new Gradient2Limit({ initial: 10, windowMs: 0, windowSamples: 2, longWindow: 1 })));
    limit.onSample(ok(1e308, 10));
    limit.onSample(ok(1e308, 10));
    // A congested window, at a tenth of the pace (here 1).
    expect(limit.longRtt).toBeCloseTo(20 + (2 ** 31 - 1 - 20) / 10, 3);
    expect(limit.limit).toBe(9);
  });
});
