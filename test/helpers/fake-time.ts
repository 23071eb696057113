import { afterEach, beforeEach, vi } from 'vitest';

/** A pool clock on fake time: `Date.now()`, which `vi.advanceTimersByTimeAsync` moves with the timers. */
export const dateClock = { now: (): number => Date.now() };

/** Every test of the file on fake timers from time 0, real timers again after it. Call at the top level. */
export function useFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
