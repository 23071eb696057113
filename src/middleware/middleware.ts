import type { Call, CallScope } from '../call.js';
import type { Outcome } from '../pipeline/outcome.js';
import { CallbackError, InvalidOptionError, isClientPoolError } from '../errors.js';
import type { PoolObserver } from '../pool-events.js';

/**
 * Continues the chain. Pass the call you received. Generic so that middleware written for any client
 * (`Middleware<unknown>`) fits every pool.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the point is not to tie Next to one client type
export type Next = <C extends Call<unknown>>(call: C) => Promise<unknown>;

/** A middleware in object form. */
export interface Middleware<T = unknown> {
  readonly name: string;
  /** Wrap each attempt: do something, `return next(call)` (the call you received), do something after. */
  execute?(call: Call<T>, next: Next): Promise<unknown>;
  /**
   * The pool's verdict on each attempt, once, after its breaker heard it: for metrics and traces, which
   * read how the attempt ended instead of deciding it again. Called for attempts that never settle too
   * (a timeout ends them), and for every attempt whether or not this middleware's `execute` ran.
   * `durationMs` is the time from the pick to the outcome (the pool times attempts while such a hook
   * is registered). Must not throw (a throw is reported as a warning).
   */
  onOutcome?(call: Call<T>, outcome: Outcome, durationMs: number): void;
  /**
   * Runs once around a whole `pool.run()`, all its attempts (retries, hedges) inside `next()`: for what
   * belongs to the call rather than to an attempt, such as a parent span. Costs nothing when absent.
   */
  around?(scope: CallScope<T>, next: () => Promise<unknown>): Promise<unknown>;
  /** Called by `pool.use()` with the pool's observable side (events, snapshots). */
  attach?(pool: PoolObserver): void;
  /** Runs when the pool closes, with that pool: stop timers, flush, forget it. */
  close?(pool: PoolObserver): void | Promise<void>;
}

/** The `around` layers composed: runs `run` inside every `around`, the first registered outermost. */
export type AroundChain<T> = (scope: CallScope<T>, run: () => Promise<unknown>) => Promise<unknown>;

/** Compose the `around` hooks of `middleware`, or undefined when none has one. */
export function composeAround<T>(middleware: readonly Middleware<T>[]): AroundChain<T> | undefined {
  let chain: AroundChain<T> | undefined;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const layer = middleware[i]!;
    if (layer.around === undefined) continue;
    const inner = chain;
    chain = (scope, run) => layer.around!(scope, inner === undefined ? run : () => inner(scope, run));
  }
  return chain;
}

/** A middleware in function form, the original's `WrapMiddleware`. */
export type MiddlewareFunction<T = unknown> = (call: Call<T>, next: Next) => Promise<unknown>;

/** Either form, as `pool.use()` takes it. */
export type AnyMiddleware<T> = Middleware<T> | MiddlewareFunction<T>;

/**
 * Bring both forms to the object form.
 * @throws InvalidOptionError for anything else.
 */
export function toMiddleware<T>(middleware: AnyMiddleware<T>): Middleware<T> {
  const m = middleware as Partial<Middleware<T>> | null;
  if (typeof middleware !== 'function' && (typeof m !== 'object' || m === null || (typeof m.execute !== 'function' && typeof m.onOutcome !== 'function' && typeof m.around !== 'function'))) {
    throw new InvalidOptionError('middleware', 'a function or an object with execute(), onOutcome() or around()', middleware);
  }
  if (typeof middleware === 'function') return { name: middleware.name || 'anonymous', execute: middleware };
  return middleware;
}

/**
 * Run a call inside the `around` hooks, recovered: a hook that throws, rejects with a non-clientpool
 * error or returns no promise fails the call with a typed error, and the call it started (if any) is
 * never left with an unhandled rejection. `run` starts the call at most once, however often it is called.
 */
export function runAround<T>(around: AroundChain<T>, scope: () => CallScope<T>, run: () => Promise<unknown>): Promise<unknown> {
  let inner: Promise<unknown> | undefined;
  let isOver = false;
  const once = (): Promise<unknown> => {
    // A hook calling next() after its own promise settled starts nothing: nobody waits for that call.
    if (isOver && inner === undefined) return handled(new CallbackError('an around hook', 'called next() after it had returned'));
    return (inner ??= run());
  };
  const over = (): void => {
    isOver = true;
    // The hook may have started the call without waiting for it: its rejection is not left unhandled.
    void inner?.catch(() => undefined);
  };
  const fail = (error: unknown): Promise<never> => {
    over();
    return Promise.reject(isClientPoolError(error) ? error : new CallbackError('an around hook', 'threw', error));
  };
  try {
    const result: unknown = around(scope(), once);
    if (result instanceof Promise) {
      return result.then((value: unknown) => {
        over();
        return value;
      }, fail);
    }
    return fail(new CallbackError('an around hook', `returned ${typeof result} instead of a promise (return next())`));
  } catch (error) {
    return fail(error);
  }
}

/** A rejected promise already handled: for a caller that may drop it. */
function handled(error: Error): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(() => undefined);
  return promise;
}
