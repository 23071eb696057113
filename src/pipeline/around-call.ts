import type { CallScope, RunOptions } from '../call.js';
import { type ClientPoolError } from '../errors.js';
import { aroundFailure, type AroundChain } from '../middleware/middleware.js';
import { OptionsRefusal } from '../pool-options.js';
import type { CallPlanner } from './call-planner.js';
import type { PoolCore } from './pool-core.js';

/**
 * A call's journey inside the pool's `around` hooks (composed by `composeAround`, each layer guarded).
 * No hook sees a call the pool refuses whatever it holds (closing, `fn` not a function, its signal
 * aborted, a getter of its options having done either) or refuses for its options (`scope()`'s
 * refusal): it runs without them (`run(refusal)`), so no hook answers for or changes a refusal. The
 * call is held (`HeldCalls`) until the innermost `next()`: its caller's abort, its deadline and
 * `close()` end it there, and a hook that goes on later gets that error from its `next()` (inner hooks
 * skipped, `fn` never run). Then it runs on what `scope()` checked (`handOver`). Whatever it throws is a rejection, never a throw.
 * @param options what the call was given, read once (`readRunOptions`' copy), or their refusal
 * @param run the call's journey with `options` as read (or refused): `#run` with `isRead`
 */
export function runAroundCall<T>(core: PoolCore<T>, planner: CallPlanner<T>, around: AroundChain<T>, fn: unknown, options: RunOptions<T> | OptionsRefusal, run: (options: RunOptions<T> | OptionsRefusal) => Promise<unknown>): Promise<unknown> {
  try {
    const scope = core.isClosing || typeof fn !== 'function' ? undefined : planner.scope(options);
    // A getter read by the scope's check may have closed the pool (or aborted the signal: no scope then).
    if (scope === undefined || core.isClosing) return run(options);
    if (OptionsRefusal.is(scope)) return run(scope);
    return held(core, planner, around, scope, run);
  } catch (error) {
    return aroundFailure('an around hook', error);
  }
}

const NO_DEADLINE = { deadline: undefined, deadlineAt: undefined };

function held<T>(core: PoolCore<T>, planner: CallPlanner<T>, around: AroundChain<T>, scope: CallScope<T>, run: (options: RunOptions<T>) => Promise<unknown>): Promise<unknown> {
  const { options } = scope;
  const signal = options.signal;
  const call = core.held.hold(signal, planner.planOf(scope) ?? NO_DEADLINE);
  // Ended, or due to end with a listener of that abort, close() or expiry run first: a late next() gets
  // that error as it is, the inner hooks are skipped and fn never runs (a deadline's clock may not agree
  // yet with the timer that ended it; destroy()'s reason is kept).
  const ended = (): ClientPoolError | undefined => call.endIfDue(signal, () => (core.isClosing ? core.closedError() : undefined));
  const next = (): Promise<unknown> => {
    const error = ended();
    if (error !== undefined) return Promise.reject(error);
    call.release();
    return planner.handOver(scope, () => run(options));
  };
  return call.settle(around(scope, next, () => ended() !== undefined));
}
