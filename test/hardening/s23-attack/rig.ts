import { vi } from 'vitest';
import { turns } from '../../helpers/promise-state.js';

/** Fake time (Date.now() under fake timers) at which `promise` settles, and how. */
export interface Ending {
  at: number | undefined;
  ok: boolean | undefined;
  value: unknown;
}

export function ending(promise: Promise<unknown>): Ending {
  const e: Ending = { at: undefined, ok: undefined, value: undefined };
  promise.then(
    (value) => Object.assign(e, { at: Date.now(), ok: true, value }),
    (value: unknown) => Object.assign(e, { at: Date.now(), ok: false, value }),
  );
  return e;
}

/** Advance fake timers `total` ms in steps of `step`, calling `each` (to move a manual clock) before each step. */
export async function run(total: number, step: number, each?: () => void): Promise<void> {
  for (let t = 0; t < total; t += step) {
    each?.();
    await vi.advanceTimersByTimeAsync(step);
  }
  await turns(2);
}

/**
 * The pool's backstop (src/pipeline/pool-token.ts `OVERDUE_MS`): on a clock that does not move, the pool gives
 * up a wait this many ms past its maxWait, by a timer of its own.
 */
export const OVERDUE_MS = 5_000;

/** The message of the pool's `RateLimitedError` when it gives up a wait for a pool `limit` token. */
export const DID_NOT_ANSWER = 'a limiter that did not answer within maxWait';
