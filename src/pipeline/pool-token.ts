import { AbortedError, CallbackError, DeadlineExceededError, isClientPoolError, RateLimitedError, ShedError } from '../errors.js';
import { LOW } from '../limit/priority.js';
import { MAX_DURATION_MS } from '../validate.js';
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
  const now = (): number => context.now();
  return (next) => (attempt) => {
    // A closing pool takes no token (nor asks a limiter that may be closed already): a call with no options
    // reaches this stage with nothing checked before it.
    if (context.isClosing) return Promise.reject(context.closedError());
    const { cost, priority } = attempt.plan;
    try {
      if (limit.tryTakeAll(cost, priority === LOW ? context.roster.reserve : 0)) return next(attempt);
    } catch (error) {
      return Promise.reject(limiterFailure('limit.tryTake()', error, attempt));
    }
    // A low-priority call is shed rather than kept waiting for a pool-wide token.
    if (priority === LOW) return takeNowOrShed(context, attempt, next);
    const since = context.now();
    return takeToken((options) => limit.take(cost, options, true, now), attempt, context.deadlines).then(
      () => {
        context.reportLimit('pool', undefined, attempt.method, since, false);
        return next(attempt);
      },
      (error: unknown) => {
        if (isClientPoolError(error) && error.code === 'ERR_RATE_LIMITED') context.reportLimit('pool', undefined, attempt.method, since, true);
        throw limiterFailure('limit.take()', error, attempt);
      },
    );
  };
}

/**
 * A low-priority call's pool-wide cost: taken at once or the call is shed. A shared limit (a Redis bucket,
 * whose `tryTake` answers only from tokens leased ahead, or a `Limiter` without one) is asked with
 * `maxWait: 0`: a round trip, but no wait. The in-memory limits keep their reserve.
 */
function takeNowOrShed<T>(context: StageContext<T>, attempt: Attempt<T>, next: (attempt: Attempt<T>) => Promise<unknown>): Promise<unknown> {
  const limit = context.limit!;
  const cost = attempt.plan.cost;
  try {
    if (!limit.hasShared || !limit.tryTakeLocal(cost, context.roster.reserve)) return Promise.reject(new ShedError('token'));
  } catch (error) {
    return Promise.reject(limiterFailure('limit.tryTake()', error, attempt));
  }
  return takeToken((options) => limit.take(cost, { signal: options.signal, maxWait: 0 }, false, () => context.now()), attempt, context.deadlines).then(
    () => next(attempt),
    (error: unknown) => {
      limit.giveBack(cost, false);
      if (isClientPoolError(error) && error.code === 'ERR_RATE_LIMITED') throw new ShedError('token', error);
      throw limiterFailure('limit.take()', error, attempt);
    },
  );
}

/**
 * Wait for the attempt's cost of `take`, ending with the attempt: its caller's abort, its call being over, the
 * pool closing. The wait is raced against that signal too, so a limiter that ignores it (or never
 * answers) cannot hold the call.
 */
export function takeToken<T>(take: (options: { signal: AbortSignal; maxWait: number }) => Promise<void>, attempt: Attempt<T>, clock: { now(): number }): Promise<void> {
  const signal = attempt.waitSignal();
  const maxWait = attempt.maxWait(clock);
  let taken: Promise<void>;
  try {
    taken = Promise.resolve(take({ signal, maxWait }));
  } catch (error) {
    attempt.doneWaiting();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- typed by limiterFailure
    return Promise.reject(error);
  }
  return raceAbort(taken, signal, overdueOf(attempt, maxWait, clock), attempt);
}

/**
 * How long past `maxWait` a wait may last before the pool gives it up, by a timer of its own: a limiter
 * that ignores `maxWait` (or never answers) must not hold a call for ever, nor a clock that does not move
 * (a manual clock not advanced, fake timers that leave it alone), on which no wait would see its
 * deadline pass. The pool's own buckets answer within `maxWait` on a clock that moves, the Redis one
 * within its `timeout`.
 */
const OVERDUE_MS = 5_000;

/** When the pool gives up a wait (ms from its start), and whether that is the call's deadline. */
export interface WaitBackstop {
  readonly ms: number;
  /** The call's deadline comes first: the wait ends with `DeadlineExceededError`. */
  readonly isDeadline: boolean;
}

/**
 * When the pool gives up a wait of `attempt` allowed `maxWait` ms: `maxWait` + `OVERDUE_MS`, or what is
 * left of the call's deadline when that is sooner (no grace past it, whatever the limiter does: the clock
 * is read only for a call with a deadline). Undefined (no backstop) when that is past the longest timer
 * Node has (2^31-1 ms, ~24.8 days): clamped, it would fire before the wait's own deadline.
 */
export function overdueOf<T>(attempt: Attempt<T>, maxWait: number, clock: { now(): number }): WaitBackstop | undefined {
  const deadlineAt = attempt.plan.deadlineAt;
  const left = deadlineAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.ceil(deadlineAt - clock.now()));
  // A wait cut by the deadline already (`maxWait` is what is left of it) ends with its own refusal, which
  // `Attempt.waitFailure` makes the deadline's error.
  if (attempt.isWaitCut) return maxWait <= MAX_DURATION_MS ? { ms: maxWait, isDeadline: false } : undefined;
  const ms = Math.min(maxWait + OVERDUE_MS, left);
  return ms <= MAX_DURATION_MS ? { ms, isDeadline: ms === left } : undefined;
}

/** The error of a wait the pool gave up at `overdue`: the call's deadline, or `otherwise()`. */
function overdueError<T>(attempt: Attempt<T>, overdue: WaitBackstop, otherwise: () => Error): Error {
  return overdue.isDeadline ? new DeadlineExceededError(attempt.plan.deadline!) : otherwise();
}

/**
 * `promise`, or an `AbortedError` as soon as `signal` aborts, or the `overdueError` once `overdue` comes;
 * then the limiter is told to drop the wait (its signal aborts with that error), so that nothing of it
 * stays queued or armed.
 */
function raceAbort<T>(promise: Promise<void>, signal: AbortSignal, overdue: WaitBackstop | undefined, attempt: Attempt<T>): Promise<void> {
  const done = (): void => attempt.doneWaiting();
  if (signal.aborted) {
    done();
    void promise.catch(() => undefined);
    return Promise.reject(new AbortedError(signal.reason));
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      finish();
      reject(new AbortedError(signal.reason));
    };
    const timer =
      overdue === undefined
        ? undefined
        : setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            const error = overdueError(attempt, overdue, () => new RateLimitedError(0, 'a limiter that did not answer within maxWait'));
            reject(error);
            attempt.giveUpWaiting(error);
          }, overdue.ms);
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      done();
    };
    promise.then(
      () => {
        finish();
        resolve();
      },
      (error: unknown) => {
        finish();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- typed by limiterFailure
        reject(error);
      },
    );
  });
}

/**
 * What a wait's failure becomes: the pool closing as `PoolClosedError`, a hedge won as the lost race, a
 * refusal the call's deadline caused as `DeadlineExceededError`, a limiter's own error as it is, anything
 * else from a user's limiter typed.
 */
export function limiterFailure<T>(what: string, error: unknown, attempt: Attempt<T>): Error {
  const failure = attempt.poolReasonOf(error) ?? attempt.waitFailure(error);
  return isClientPoolError(failure) ? failure : new CallbackError(what, 'failed', failure);
}
