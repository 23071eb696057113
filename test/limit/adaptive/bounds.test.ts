import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SteadyTime } from '../../../src/limit/adaptive/bounds.js';
import { adaptiveLimit, type ConcurrencyLimit, type ConcurrencySample } from '../../../src/limit/adaptive/concurrency-limit.js';

/** Numbers a pool with a bug, or a clock gone wrong, might report. */
const garbage = fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, -0, 0, 1e308, Number.MIN_VALUE, 2 ** 53);
const number = (min: number, max: number): fc.Arbitrary<number> => fc.oneof(fc.double({ min, max, noNaN: true }), garbage);

const sample: fc.Arbitrary<ConcurrencySample> = fc.record({
  rttMs: number(0, 10_000),
  inFlight: fc.oneof(fc.integer({ min: 0, max: 2_000 }), garbage),
  didDrop: fc.boolean(),
  now: number(-1_000, 1e7),
});

/** Valid options of either controller, bounds included. */
const options = fc
  .record({
    adaptive: fc.constantFrom('aimd' as const, 'gradient2' as const),
    min: fc.integer({ min: 1, max: 50 }),
    span: fc.integer({ min: 0, max: 200 }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    backoff: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
    timeout: fc.integer({ min: 1, max: 10_000 }),
    smoothing: fc.double({ min: 0.01, max: 1, noNaN: true }),
    rttTolerance: fc.double({ min: 1, max: 5, noNaN: true }),
    queueSize: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant((l: number) => Math.sqrt(l))),
    windowMs: fc.integer({ min: 0, max: 2_000 }),
    windowSamples: fc.integer({ min: 1, max: 20 }),
    longWindow: fc.integer({ min: 1, max: 1_000 }),
  })
  .map((o) => {
    const bounds = { min: o.min, max: o.min + o.span, initial: o.min + Math.floor(o.at * o.span) };
    return o.adaptive === 'aimd'
      ? { adaptive: o.adaptive, ...bounds, backoff: o.backoff, timeout: o.timeout }
      : { adaptive: o.adaptive, ...bounds, smoothing: o.smoothing, rttTolerance: o.rttTolerance, queueSize: o.queueSize, windowMs: o.windowMs, windowSamples: o.windowSamples, longWindow: o.longWindow };
  });

const isWithin = (limit: ConcurrencyLimit): boolean => Number.isInteger(limit.limit) && limit.limit >= limit.min && limit.limit <= limit.max;

describe('adaptive limits, for any samples', () => {
  it('keep the limit an integer in [min, max] after every sample, garbage included, and never throw', () => {
    fc.assert(
      fc.property(options, fc.array(sample, { maxLength: 300 }), (opts, samples) => {
        const limit = adaptiveLimit('maxInFlight', opts);
        if (!isWithin(limit)) return false;
        for (const s of samples) {
          limit.onSample(s);
          if (!isWithin(limit)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('are not poisoned by garbage: failures that follow still take the limit down to min', () => {
    fc.assert(
      fc.property(options, fc.array(sample, { maxLength: 100 }), (opts, samples) => {
        const limit = adaptiveLimit('maxInFlight', opts);
        for (const s of samples) limit.onSample(s);
        // Each failure reported 5 s after the last, having taken 1 ms: a new round trip, and a new window.
        let now = 0;
        for (let i = 0; i < 2_000 && limit.limit > limit.min; i++) {
          now += 5_000;
          for (let j = 0; j < 20; j++) limit.onSample({ rttMs: 1, inFlight: limit.limit, didDrop: true, now: now + j });
        }
        return limit.limit === limit.min;
      }),
      { numRuns: 200 },
    );
  });

  it('are not poisoned by garbage: an AIMD limit still grows to max on fast successes at full use', () => {
    fc.assert(
      fc.property(
        options.filter((o) => o.adaptive === 'aimd'),
        fc.array(sample, { maxLength: 100 }),
        (opts, samples) => {
          const limit = adaptiveLimit('maxInFlight', opts);
          for (const s of samples) limit.onSample(s);
          for (let i = 0; i < 100_000 && limit.limit < limit.max; i++) limit.onSample({ rttMs: 0.5, inFlight: limit.limit, didDrop: false, now: i });
          return limit.limit === limit.max;
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('SteadyTime', () => {
  it('passes a clock that only goes forward through as it is', () => {
    const time = new SteadyTime();
    expect([0, 5, 5, 12].map((t) => time.read(t))).toEqual([0, 5, 5, 12]);
  });

  it('stands still at a step back and goes on from there', () => {
    const time = new SteadyTime();
    expect([100, 40, 50, 45].map((t) => time.read(t))).toEqual([100, 100, 110, 110]);
  });

  it('takes a reading that is not a number within ±2^53 as the last one; before any, -Infinity', () => {
    const time = new SteadyTime();
    expect(time.read(Number.NaN)).toBe(-Infinity);
    expect([7, Number.NaN, Infinity, -Infinity, 1e308, -(2 ** 53), 9].map((t) => time.read(t))).toEqual([7, 7, 7, 7, 7, 7, 9]);
  });
});
