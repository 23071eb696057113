import { CallbackError, type ClientPoolError } from '../errors.js';
import type { Middleware, Next } from '../middleware/middleware.js';
import { Attempt } from './attempt.js';
import { isThenable } from './guard.js';

/** The rest of the journey from one stage on. */
export type Step<T> = (attempt: Attempt<T>) => Promise<unknown>;

/**
 * A stage of the call pipeline: the middleware's `(call, next)` shape with its `next` bound once, when
 * the chain is composed (undici's interceptors: `dispatch => dispatch`). Built-in stages (pool token,
 * pick, client token, race) and user middleware compose into one chain, once per combination of stages
 * in use, never per call.
 */
export type Stage<T> = (next: Step<T>) => Step<T>;

/** Compose `stages` (outermost first; `undefined` ones left out) around `last`. */
export function composeStages<T>(stages: readonly (Stage<T> | undefined)[], last: Step<T>): Step<T> {
  let next = last;
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i];
    if (stage !== undefined) next = stage(next);
  }
  return next;
}

/** A rejected promise already handled: for a misbehaving caller who may drop it. */
export function handledRejection(error: ClientPoolError): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

function noop(): void {}

/** What `next()` last returned to the `execute` running now, per middleware stage. */
interface Held {
  pending: Promise<unknown> | undefined;
}

/** Read through a call: set by `next()` while `execute` runs, which flow analysis does not see. */
function pendingOf(held: Held): Promise<unknown> | undefined {
  return held.pending;
}


/**
 * A user middleware as a stage, guarded: whatever it does (throws, returns no promise, passes something
 * other than its call to `next`, calls `next` late or twice), the attempt ends with a typed error and
 * nothing is left dangling.
 */
export function middlewareStage<T>(middleware: Middleware<T>): Stage<T> | undefined {
  if (middleware.execute === undefined) return undefined;
  const name = `middleware "${middleware.name}"`;
  return (next) => {
    // The attempt whose `execute` is running now, synchronously, and what `next()` last returned to it
    // (kept here, not on the attempt, which would carry a field for it on every call): a `next()` called
    // for any other attempt (late, after the middleware returned, or not awaited) is handled at once, as
    // nobody may wait for it.
    let executing: Attempt<T> | undefined;
    const held: Held = { pending: undefined };
    const guardedNext = nextFor(name, next, (attempt, chain) => {
      if (attempt !== executing) return false;
      // A second next() in the same execute (refused, or a chain of its own): the one it replaces may be
      // dropped by the middleware, so its rejection is handled (the caller still sees it if it is returned).
      pendingOf(held)?.catch(noop);
      held.pending = chain;
      return true;
    });
    return (attempt) => {
      let result: unknown;
      let chain: Promise<unknown> | undefined;
      // Saved and restored: the middleware may start another call through this very stage.
      const outer = executing;
      const outerPending = held.pending;
      executing = attempt;
      held.pending = undefined;
      try {
        result = middleware.execute!(attempt, guardedNext);
      } catch (error) {
        // It may have started the chain below first: that promise is dropped, its rejection handled.
        pendingOf(held)?.catch(noop);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by the pick stage
        return Promise.reject(error);
      } finally {
        chain = pendingOf(held);
        executing = outer;
        held.pending = outerPending;
      }
      // Promise.resolve returns a plain promise as it is, and adopts anything else with a `then` (a
      // thenable, a Proxy or a subclass of a promise), so whatever its `then` does the pool can wait on it.
      if (result instanceof Promise || isThenable(result)) {
        // A promise of its own (an async middleware, or one that awaits something else that fails): the
        // pick stage reads that; the chain below is still awaited by whoever awaits it, but never unhandled.
        if (result !== chain) chain?.catch(noop);
        return Promise.resolve(result);
      }
      // What the chain below returned may still settle: dropped, and its rejection handled.
      chain?.catch(noop);
      return Promise.reject(new CallbackError(name, `returned ${result === undefined ? 'undefined' : typeof result} instead of a promise (return next(call))`));
    };
  };
}

/**
 * The `next` a middleware receives: finds the attempt behind what it is given. `keep` holds what the chain
 * returned for the attempt whose `execute` is running, and says false for any other.
 */
function nextFor<T>(name: string, next: Step<T>, keep: (attempt: Attempt<T>, chain: Promise<unknown>) => boolean): Next {
  return (call) => {
    // The pool's own call, never a copy, a Proxy or an object made from it: they lose what the pool tracks.
    if (!Attempt.isAttempt(call)) return handledRejection(new CallbackError(name, 'passed next() something that is not the call it received (pass the call itself, not a copy)'));
    // Kept, so that a middleware that returns no promise, or another one, leaves no unhandled rejection
    // behind; one called after its middleware returned is handled here, since that check is already done.
    const attempt = call as unknown as Attempt<T>;
    const chain = next(attempt);
    if (!keep(attempt, chain)) chain.catch(noop);
    return chain;
  };
}

/**
 * `Promise.resolve(value)` without its cost in the usual case: a native promise whose `constructor` is
 * `Promise` is returned as it is, as `Promise.resolve` returns it (ECMA-262 PromiseResolve). An object that
 * merely inherits from `Promise.prototype` passes too; the `then()` that the pick stage calls on it throws,
 * and is settled as the function's failure. A native promise with a `then` of its own is answered through
 * a promise of ours that its `then` settles (or its throw rejects): what the stages chain on is always a
 * promise, whatever that `then` returns.
 */
export function asPromise(value: unknown): Promise<unknown> {
  if (!(value instanceof Promise) || value.constructor !== Promise) return Promise.resolve(value);
  return value.then === promiseThen ? (value as Promise<unknown>) : ownThen(value as Promise<unknown>);
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- only compared with
const promiseThen = Promise.prototype.then;

/** A native promise's own `then`, called once with the resolve and reject of a promise of ours. */
function ownThen(value: Promise<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    void value.then(resolve, reject);
  });
}

/** Why the chain must not call the client for `attempt`: out of `invokeStep()`, which stays small enough to inline. */
function notInvoked<T>(attempt: Attempt<T>): Promise<never> {
  if (attempt.isInvoked) return handledRejection(new CallbackError('a middleware', 'called next() twice for one attempt'));
  // Ended while the chain above took its time (a timeout, the caller, destroy(), or settled already
  // because a middleware answered without waiting for next()): the client is not called.
  const ended = attempt.endError ?? Attempt.hostOf(attempt).destroyError;
  if (ended !== undefined) return handledRejection(ended);
  return handledRejection(new CallbackError('a middleware', 'called next() after its attempt had ended'));
}

/** The end of the chain: the user's function, called once per attempt, never after the attempt ended. */
export function invokeStep<T>(attempt: Attempt<T>): Promise<unknown> {
  if (attempt.isInvoked || attempt.isEnded || attempt.endError !== undefined || Attempt.hostOf(attempt).destroyError !== undefined) return notInvoked(attempt);
  try {
    // Adopted even when it is a promise: a Proxy of one, or a subclass whose `then` throws, becomes a
    // plain promise that rejects, rather than a value the pool cannot wait on.
    return asPromise(attempt.invoke());
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by the pick stage
    return Promise.reject(error);
  }
}
