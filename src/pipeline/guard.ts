/**
 * Calling user callbacks (predicates, hooks, balancers) so that a throw cannot corrupt a call in flight.
 * A callback that throws is reported once per pool and name as a process warning, and its call goes on
 * with `fallback`: never silently, never as an unhandled rejection.
 */
export class CallbackGuard {
  readonly #warned = new Set<string>();

  /** `fn(arg)`, or `fallback` if it throws. */
  call<A, R>(name: string, fn: (arg: A) => R, arg: A, fallback: R): R {
    try {
      return fn(arg);
    } catch (error) {
      this.warn(name, error);
      return fallback;
    }
  }

  /** `fn(a, b)`, or `fallback` if it throws. */
  call2<A, B, R>(name: string, fn: (a: A, b: B) => R, a: A, b: B, fallback: R): R {
    try {
      return fn(a, b);
    } catch (error) {
      this.warn(name, error);
      return fallback;
    }
  }

  /** Report a callback's failure: the first one per name as a process warning. */
  warn(name: string, error: unknown): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    const message = `clientpool: ${name} threw (reported once per pool): ${safeString(error)}`;
    process.emitWarning(message, { code: 'CLIENTPOOL_CALLBACK_ERROR', detail: 'The call went on as if the callback had not been given.' });
  }
}

/** A value as text, whatever it is: Proxies and throwing getters included. */
export function safeString(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return String(value).slice(0, 200);
  } catch {
    return '[a value that cannot be printed]';
  }
}
