import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, TimeWindow } from '../../src/breaker/rolling-window.js';
import { ManualClock } from '../helpers/manual-clock.js';

const HOUR = 3_600_000;

/** A time window of 1 000 ms in 10 buckets of 100 ms, on a manual clock at `start`. */
function timeWindow(start: number): { window: TimeWindow; clock: ManualClock } {
  const clock = new ManualClock();
  clock.time = start;
  return { window: new TimeWindow(1_000, 10, clock), clock };
}

const counts = (w: { total: number; failures: number; slow: number }): [number, number, number] => [w.total, w.failures, w.slow];

describe('TimeWindow', () => {
  it('a time window keeps counting in its newest bucket when the clock steps back', () => {
    const { window, clock } = timeWindow(HOUR + 950);
    window.record(true, false);
    clock.time = 50;
    window.record(false, true);
    expect(counts(window)).toEqual([2, 1, 1]);
    // Both sit in the same, newest bucket: nine buckets on they still count, the tenth forgets both.
    clock.advance(900);
    window.record(false, false);
    expect(counts(window)).toEqual([3, 1, 1]);
    clock.advance(100);
    window.record(false, false);
    expect(counts(window)).toEqual([2, 0, 0]);
  });

  it('a time window slides on from where the clock stepped back to, instead of waiting an hour', () => {
    const { window, clock } = timeWindow(HOUR + 50);
    window.record(true, false);
    clock.time = 50;
    window.record(false, false);
    // Nine buckets on, both are still in the window; ten buckets on, both are gone.
    clock.advance(900);
    window.record(false, false);
    expect(counts(window)).toEqual([3, 1, 0]);
    clock.advance(100);
    window.record(false, false);
    expect(counts(window)).toEqual([2, 0, 0]);
  });

  it('a time window steps back more than once without losing count', () => {
    const { window, clock } = timeWindow(10 * HOUR);
    window.record(true, false);
    for (let i = 0; i < 4; i++) {
      clock.time -= HOUR;
      window.record(true, false);
    }
    expect(counts(window)).toEqual([5, 5, 0]);
    clock.advance(1_000);
    window.record(false, false);
    expect(counts(window)).toEqual([1, 0, 0]);
  });

  it('a reading that is not a number counts in the newest bucket, and the window slides on as before', () => {
    // A clock built by hand for a breaker used directly is not guarded as the pool's is.
    const { window, clock } = timeWindow(0);
    window.record(true, false);
    clock.time = Number.NaN;
    window.record(true, false);
    expect(counts(window)).toEqual([2, 2, 0]);
    clock.time = 950;
    window.record(false, false);
    expect(counts(window)).toEqual([3, 2, 0]);
    clock.time = 1_000;
    window.record(false, false);
    expect(counts(window)).toEqual([2, 0, 0]);
  });

  it('a time window far from zero (epochs past 2^53) counts within an epoch and forgets all after `buckets` epochs', () => {
    // There, adding 1 to an epoch gives the same number: no step may walk the epochs one by one.
    const clock = new ManualClock();
    const window = new TimeWindow(4, 4, clock);
    clock.time = 2 ** 54;
    window.record(true, false);
    window.record(false, true);
    expect(counts(window)).toEqual([2, 1, 1]);
    clock.time = 2 ** 54 + 4;
    window.record(false, false);
    expect(counts(window)).toEqual([1, 0, 0]);
  });

  it('a clock in Unix ms with fractions and buckets under 2e-4 ms moves on by a few buckets and returns (epochs past 2^53)', () => {
    // 1 ms over 100 000 buckets: epochs near 1.7e16, where epoch + 1 is epoch. It used to loop for ever.
    const clock = new ManualClock();
    const window = new TimeWindow(1, 100_000, clock);
    clock.time = 1_700_000_000_000.25;
    window.record(true, false);
    clock.time = 1_700_000_000_000.5;
    window.record(false, false);
    expect(counts(window)).toEqual([2, 1, 0]);
  });
});

describe('CountWindow', () => {
  it('a count window reads no clock and keeps the last `size` outcomes', () => {
    const window = new CountWindow(3);
    for (const failed of [true, true, false, false, true]) window.record(failed, false);
    expect(counts(window)).toEqual([3, 1, 0]);
  });
});

/** An operation on a window: record an outcome after `advance` ms, or clear it. */
type Op = { kind: 'record'; advance: number; failed: boolean; slow: boolean } | { kind: 'clear' };
const ops = (maxAdvance: number): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.record({ kind: fc.constant('record' as const), advance: fc.integer({ min: 0, max: maxAdvance }), failed: fc.boolean(), slow: fc.boolean() }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    ),
    { maxLength: 120 },
  );

describe('rolling windows match a list of outcomes (property)', () => {
  it('a count window holds exactly the last `size` outcomes since it was last cleared', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), ops(0), (size, steps) => {
        const window = new CountWindow(size);
        expect(window.size).toBe(size);
        let kept: { failed: boolean; slow: boolean }[] = [];
        for (const op of steps) {
          if (op.kind === 'clear') {
            window.clear();
            kept = [];
          } else {
            window.record(op.failed, op.slow);
            kept = [...kept, op].slice(-size);
          }
          expect(counts(window)).toEqual([kept.length, kept.filter((o) => o.failed).length, kept.filter((o) => o.slow).length]);
        }
      }),
    );
  });

  it('a time window of `buckets` buckets holds the outcomes of the last `buckets` bucket epochs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 50 }), ops(300), (buckets, width, steps) => {
        const clock = new ManualClock();
        const window = new TimeWindow(buckets * width, buckets, clock);
        let kept: { at: number; failed: boolean; slow: boolean }[] = [];
        for (const op of steps) {
          if (op.kind === 'clear') {
            window.clear();
            kept = [];
            continue;
          }
          clock.advance(op.advance);
          window.record(op.failed, op.slow);
          const epoch = Math.floor(clock.time / width);
          kept = [...kept, { at: clock.time, failed: op.failed, slow: op.slow }].filter((o) => epoch - Math.floor(o.at / width) < buckets);
          expect(counts(window)).toEqual([kept.length, kept.filter((o) => o.failed).length, kept.filter((o) => o.slow).length]);
        }
      }),
    );
  });
});
