import { vi } from 'vitest';

/**
 * `promise`, with fake timers run 1 ms at a time until it settles (at most 1 s of fake time): a retry's
 * backoff of 0 ms is still a timer of the pool's, due on the next tick of its clock.
 */
export async function settled<T>(promise: Promise<T>): Promise<T> {
  let isDone = false;
  const done = promise.finally(() => (isDone = true));
  for (let i = 0; i < 1_000 && !isDone; i++) await vi.advanceTimersByTimeAsync(1);
  return done;
}
