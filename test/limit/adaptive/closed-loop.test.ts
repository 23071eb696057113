import { describe, expect, it } from 'vitest';
import { adaptiveLimit, type AdaptiveLimitOptions } from '../../../src/limit/adaptive/concurrency-limit.js';
import { CAPACITY, failingBackend, kneeBackend, msUntilWithin, quantile, settledLimit, simulate, UNLOADED_MS, type Phase } from './closed-loop.js';

// The scenario (#15 §2): a backend whose latency is 20 ms up to 8 in flight and 40 ms above,
// offered 4x what 8 in flight serve. Measures: the median of the limit, read every 10 ms, over the last
// half of a phase; "a window" is gradient2's default 1 s, the budget for recovery for both controllers.

const WINDOW_MS = 1_000;
const warm: Phase = { name: 'warm', ms: 10_000, rate: CAPACITY / 2, backend: kneeBackend };
const overload = (ms: number): Phase => ({ name: 'overload', ms, rate: 4 * CAPACITY, backend: kneeBackend });
const quiet: Phase = { name: 'quiet', ms: 10_000, rate: CAPACITY / 2, backend: kneeBackend };
const failure: Phase = { name: 'failure', ms: 30_000, rate: 4 * CAPACITY, backend: failingBackend };

const controllers: [string, AdaptiveLimitOptions][] = [
  ['gradient2 (defaults)', { adaptive: 'gradient2' }],
  // AIMD sees latency only through timeout: 1.5x the unloaded 20 ms.
  ['aimd (timeout 30 ms)', { adaptive: 'aimd', timeout: 30 }],
];

describe.each(controllers)('%s in closed loop on a backend whose latency doubles above 8 in flight', (_name, options) => {
  it('settles in [6, 12] under 4x offered load, admitted p99 at most 2x the unloaded latency, the excess refused', () => {
    const [, loaded] = simulate(adaptiveLimit('maxInFlight', options), [warm, overload(60_000)]);
    expect(settledLimit(loaded!)).toBeGreaterThanOrEqual(6);
    expect(settledLimit(loaded!)).toBeLessThanOrEqual(12);
    const lastHalf = loaded!.limits.slice(loaded!.limits.length >> 1).map((r) => r.limit);
    expect(Math.min(...lastHalf)).toBeGreaterThanOrEqual(6);
    expect(Math.max(...lastHalf)).toBeLessThanOrEqual(12);
    expect(quantile(loaded!.latencies, 0.99)).toBeLessThanOrEqual(2 * UNLOADED_MS);
    expect(loaded!.refused).toBeGreaterThan(loaded!.admitted);
  });

  it('after a failure burst has taken it to min, is back in [6, 12] within 5 windows and stays there', () => {
    const limit = adaptiveLimit('maxInFlight', options);
    const [, , failed, recovered] = simulate(limit, [warm, overload(30_000), failure, overload(30_000)]);
    expect(failed!.limits.at(-1)!.limit).toBe(limit.min);
    expect(msUntilWithin(recovered!, 6, 12)).toBeLessThanOrEqual(5 * WINDOW_MS);
    expect(settledLimit(recovered!)).toBeGreaterThanOrEqual(6);
    expect(settledLimit(recovered!)).toBeLessThanOrEqual(12);
  });

  it('when the load drops below capacity and returns, is in [6, 12] within 5 windows of its return', () => {
    const [, , , returned] = simulate(adaptiveLimit('maxInFlight', options), [warm, overload(30_000), quiet, overload(30_000)]);
    expect(msUntilWithin(returned!, 6, 12)).toBeLessThanOrEqual(5 * WINDOW_MS);
    expect(settledLimit(returned!)).toBeGreaterThanOrEqual(6);
    expect(settledLimit(returned!)).toBeLessThanOrEqual(12);
  });
});

describe('gradient2 in closed loop: its limits', () => {
  it('learns an overloaded latency as normal when overloaded from its first window, and does not hold the knee', () => {
    const [loaded] = simulate(adaptiveLimit('maxInFlight', { adaptive: 'gradient2' }), [overload(60_000)]);
    expect(settledLimit(loaded!)).toBeGreaterThan(12);
  });

  it('holds the knee from its first window when it starts below it', () => {
    const [loaded] = simulate(adaptiveLimit('maxInFlight', { adaptive: 'gradient2', initial: 4 }), [overload(60_000)]);
    expect(settledLimit(loaded!)).toBeGreaterThanOrEqual(6);
    expect(settledLimit(loaded!)).toBeLessThanOrEqual(12);
  });
});
