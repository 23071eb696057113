// Fake time for every test of a file, with what attack tests watch while it runs: how often the pool read
// its clock (a busy loop reads it without end) and the unhandled rejections seen.
import { afterEach, beforeEach, vi } from 'vitest';

/** Every test of the file on fake timers from time 0; `clock` counts its reads in `reads`. Call at the top level. */
export function useCountingFakeTime(): { readonly clock: { now(): number }; readonly reads: () => number } {
  let reads = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    reads = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return { clock: { now: (): number => (reads++, Date.now()) }, reads: () => reads };
}

/** Every test of the file on fake timers from time 0, collecting unhandled rejections into the array returned. Call at the top level. */
export function useFakeTimeWatchingRejections(): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    vi.useRealTimers();
  });
  return unhandled;
}
