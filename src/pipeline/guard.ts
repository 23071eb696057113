import { CallbackError, isClientPoolError, type ClientPoolError } from '../errors.js';
import { emitWarning } from '../util/host.js';

/**
 * Calling user callbacks (predicates, hooks, balancers) so that a throw cannot corrupt a call in flight.
 * A callback that throws is reported once per pool and name as a process warning, and its call goes on
 * with `fallback`: never silently, never as an unhandled rejection. An `async` callback where an answer is
 * due at once (a predicate: `isFailure`, `retryOn`, `retryAfter`) is misused the same way: its promise is
 * not an answer (it would always be truthy), so the fallback is used, and the promise's rejection handled.
 */
export class CallbackGuard {
  readonly #warned = new Set<string>();

  /** `fn(arg)`, or `fallback` if it throws or returns a promise. */
  call<A, R>(name: string, fn: (arg: A) => R, arg: A, fallback: R): R {
    let result: R;
    try {
      result = fn(arg);
    } catch (error) {
      this.warn(name, error);
      return fallback;
    }
    return typeof result === 'object' && result !== null && isThenable(result) ? this.#notAnAnswer(name, result, fallback) : result;
  }

  /** `fn(a, b)`, or `fallback` if it throws or returns a promise. */
  call2<A, B, R>(name: string, fn: (a: A, b: B) => R, a: A, b: B, fallback: R): R {
    let result: R;
    try {
      result = fn(a, b);
    } catch (error) {
      this.warn(name, error);
      return fallback;
    }
    return typeof result === 'object' && result !== null && isThenable(result) ? this.#notAnAnswer(name, result, fallback) : result;
  }

  /**
   * What a void callback (a listener, `onOutcome`, a breaker's `success()`) returned: a promise of an
   * `async` one is not waited for, but its rejection is reported as a throw would be, never left unhandled.
   */
  watch(name: string, result: unknown): void {
    onRejected(result, (error) => this.warn(name, error));
  }

  /** Report a callback's failure: the first one per name as a process warning; `detail` says what the pool did. */
  warn(name: string, error: unknown, detail = 'The call went on as if the callback had not been given.'): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    const message = `clientpool: ${name} failed (reported once per pool): ${safeString(error)}`;
    emitWarning(message, 'CLIENTPOOL_CALLBACK_ERROR', detail);
  }

  #notAnAnswer<R>(name: string, result: PromiseLike<unknown>, fallback: R): R {
    onRejected(result, noop);
    this.warn(name, new CallbackError(name, 'returned a promise where an answer was due at once (make it synchronous)'));
    return fallback;
  }
}

/**
 * Whether `value` has a `then` method, read safely: a Proxy or a getter that throws is not a thenable.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/**
 * Call `handler` if `value` is a thenable that rejects (or whose `then` throws); otherwise nothing. The
 * value's own `then` runs later, through a native promise, so a hostile one cannot throw into the caller.
 */
export function onRejected(value: unknown, handler: (error: unknown) => void): void {
  if (value === undefined || !isThenable(value)) return;
  try {
    Promise.resolve(value).then(undefined, handler);
  } catch (error) {
    // A Proxy of a promise whose `constructor` read throws: a failure all the same.
    handler(error);
  }
}

function noop(): void {}

/** A value as text, whatever it is: Proxies and throwing getters included. */
export function safeString(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return String(value).slice(0, 200);
  } catch {
    return '[a value that cannot be printed]';
  }
}

/**
 * A clientpool error (any build's), read safely: the brand, a string `code` and an `Error`. A forged
 * brand (a revived or cloned plain object) or one whose getters throw is not one.
 */
export function isBrandedError(error: unknown): error is ClientPoolError {
  try {
    return isClientPoolError(error) && typeof error.code === 'string' && error instanceof Error;
  } catch {
    return false;
  }
}
