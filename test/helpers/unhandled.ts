import { afterEach, beforeEach, expect, vi } from 'vitest';

/** Unhandled rejections seen while `body` runs and until `after` resolves (20 ms of real time by default). */
export async function unhandledDuring(body: () => Promise<void>, after: () => Promise<unknown> = () => new Promise((resolve) => setTimeout(resolve, 20))): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): number => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await after();
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

/**
 * Every test of the file runs with an unhandled-rejection guard that must stay empty: on fake time (set to
 * 0, advanced 50 ms after the test) with `time: 'fake'`; with `time: 'fake-timers'`, timers and `Date`
 * faked but not `setImmediate`, and a turn of the loop after the test on real time; with `time: 'real'`,
 * that turn only. With `quietWarnings`, `process.emitWarning` silenced (pools warn of throwing
 * callbacks). Call at the top level.
 */
export function useUnhandledGuard(options: { readonly time: 'fake' | 'fake-timers' | 'real'; readonly quietWarnings?: boolean }): void {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  beforeEach(() => {
    if (options.time === 'fake') {
      vi.useFakeTimers();
      vi.setSystemTime(0);
    } else if (options.time === 'fake-timers') vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    seen.length = 0;
    process.on('unhandledRejection', listener);
    if (options.quietWarnings === true) vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    if (options.time === 'fake') await vi.advanceTimersByTimeAsync(50);
    else {
      if (options.time === 'fake-timers') vi.useRealTimers();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (options.quietWarnings === true) vi.restoreAllMocks();
    if (options.time === 'fake') vi.useRealTimers();
    process.off('unhandledRejection', listener);
    expect(seen).toEqual([]);
  });
}

/** Unhandled rejections seen while `body` runs and five turns of the event loop after (no timer: works under fake timers that leave `setImmediate` real). */
export function unhandledOverTurns(body: () => Promise<void>): Promise<unknown[]> {
  return unhandledDuring(body, async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  });
}
