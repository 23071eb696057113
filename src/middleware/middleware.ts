import type { Call, CallScope } from '../call.js';
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
  execute(call: Call<T>, next: Next): Promise<unknown>;
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

/** The chain as the pool runs it. */
export type Handler<T> = (call: Call<T>) => Promise<unknown>;

/** Bring both forms to the object form. */
export function toMiddleware<T>(middleware: AnyMiddleware<T>): Middleware<T> {
  if (typeof middleware === 'function') return { name: middleware.name || 'anonymous', execute: middleware };
  return middleware;
}

/**
 * Compose the onion once: the first middleware is the outermost. Each layer's `next` is built here, not
 * per call, so running the chain allocates nothing of its own.
 */
export function compose<T>(middleware: readonly Middleware<T>[], terminal: Handler<T>): Handler<T> {
  let next: Handler<T> = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const layer = middleware[i]!;
    const inner = next as Next;
    next = (call) => layer.execute(call, inner);
  }
  return next;
}
