import { EMPTY_OPTIONS } from '../call.js';
import type { HeightTracker } from '../freshness/height-tracker.js';
import type { StageContext } from './context.js';
import type { Stage } from './stage.js';

/**
 * Read-your-writes: a call with `minHeight` waits here, before it takes a token or a client, until a
 * client in sync with the pool's head has reached that height (up to `maxWait`, or the call's deadline),
 * and the pick then goes only to a client at that height or above. Composed once a call has asked for
 * it: pools that never do pay nothing.
 */
export function minHeightStage<T>(context: StageContext<T>, heights: HeightTracker<T>): Stage<T> {
  return (next) => (attempt) => {
    const minHeight = heightOf(attempt.options === EMPTY_OPTIONS ? undefined : attempt.options.minHeight);
    // No client at all: the pick says so (NoClientsError) rather than a wait for a height none can reach.
    if (minHeight === undefined || heights.isServing(minHeight) || context.roster.size === 0) return next(attempt);
    const signal = attempt.waitSignal();
    return heights.waitFor(minHeight, signal, attempt.maxWait(context.deadlines)).then(
      () => {
        attempt.doneWaiting();
        return next(attempt);
      },
      (error: unknown) => {
        attempt.doneWaiting();
        // The pool closing, or a hedge won, as themselves; a wait the call's deadline cut as the deadline.
        throw attempt.poolReasonOf(error) ?? attempt.waitFailure(error);
      },
    );
  };
}

/** A validated `minHeight` as a number (a bigint one is at most 2^53 - 1). */
export function heightOf(value: number | bigint | undefined): number | undefined {
  return typeof value === 'bigint' ? Number(value) : value;
}
