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
});

describe('CountWindow', () => {
  it('a count window reads no clock and keeps the last `size` outcomes', () => {
    const window = new CountWindow(3);
    for (const failed of [true, true, false, false, true]) window.record(failed, false);
    expect(counts(window)).toEqual([3, 1, 0]);
  });
});
