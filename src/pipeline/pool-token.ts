import { CallbackError, isClientPoolError } from '../errors.js';
import type { Attempt } from './attempt.js';
import type { StageContext } from './context.js';
import type { Stage } from './stage.js';

/**
 * The pool-wide token, taken by every attempt (retries and hedges spend the upstream's quota too) before
 * a client is chosen: at once when one is at hand, else waiting in FIFO order up to `maxWait`.
 */
export function poolTokenStage<T>(context: StageContext<T>): Stage<T> | undefined {
  const limit = context.limit;
  if (limit === undefined) return undefined;
  return (next) => (attempt) => {
    try {
      if (limit.tryTake?.(1) === true) return next(attempt);
    } catch (error) {
      return Promise.reject(limiterFailure('limit.tryTake()', error));
    }
    const since = context.now();
    attempt.markWaited();
    return takeToken(limit.take.bind(limit), attempt).then(
      () => {
        context.reportLimit('pool', undefined, attempt.method, since, false);
        return next(attempt);
      },
      (error: unknown) => {
        if (isClientPoolError(error) && error.code === 'ERR_RATE_LIMITED') context.reportLimit('pool', undefined, attempt.method, since, true);
        throw limiterFailure('limit.take()', error);
      },
    );
  };
}

/** Wait for one token of `take`, ending with the attempt (its caller's signal, or its call being over). */
export function takeToken<T>(take: (n: number, options: { signal?: AbortSignal; maxWait: number }) => Promise<void>, attempt: Attempt<T>): Promise<void> {
  const signal = attempt.group?.waitSignal ?? attempt.options.signal;
  const maxWait = attempt.plan.maxWait;
  try {
    return Promise.resolve(take(1, signal === undefined ? { maxWait } : { signal, maxWait }));
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- typed by limiterFailure
    return Promise.reject(error);
  }
}

/** A limiter's own error as it is; anything else from a user's limiter, typed. */
export function limiterFailure(what: string, error: unknown): Error {
  return isClientPoolError(error) ? error : new CallbackError(what, 'failed', error);
}
