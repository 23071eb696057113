import type { Middleware } from '../../src/index.js';

/** Middleware that hears each attempt's duration (a 3-parameter `onOutcome`: timed) and each call's (`onCallEnd`). */
export function durations<T>(): Middleware<T> & { attempts: number[]; calls: number[] } {
  const attempts: number[] = [];
  const calls: number[] = [];
  return {
    name: 'durations',
    attempts,
    calls,
    onOutcome(_call, _outcome, ms) {
      attempts.push(ms);
    },
    onCallEnd(end) {
      calls.push(end.durationMs);
    },
  };
}
