import type { Call, CallScope } from '../call.js';
import type { CallEnd } from '../pipeline/call-end.js';
import type { Outcome } from '../pipeline/outcome.js';
import { CallbackError, InvalidOptionError, isClientPoolError } from '../errors.js';
import { unreadableOptions } from '../validate.js';
import { isThenable } from '../pipeline/guard.js';
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
   * `durationMs` is the time from the pick to the outcome, in ms on the pool's clock. The pool times
   * attempts only when something needs it, so a hook that does not costs no clock reads: it reads the
   * hook's `length`, which counts parameters up to the first one with a default or a rest parameter.
   * Declare `durationMs` as a plain third parameter (`onOutcome(call, outcome, ms)`) to get timings; one
   * with a default (`ms = -1`), or `(...args)`, has `length` < 3 and gets `NaN` unless timing is on for
   * another reason (`measureLatency: true`, `p2c-ewma`, a slow-call breaker). Return nothing: a throw, or
   * the rejection of a promise an `async` hook returns (which is not waited for), is reported as a
   * `CLIENTPOOL_CALLBACK_ERROR` warning.
   */
  onOutcome?(call: Call<T>, outcome: Outcome, durationMs: number): void;
  /**
   * How each whole `pool.run()` ended, as its caller saw it, once however many attempts it made: its
   * method, the error the caller got (undefined on success) and its duration in ms on the pool's clock,
   * every `around` hook included. Heard for calls refused before any client too (`ERR_NO_CLIENTS`,
   * `ERR_ALL_CIRCUITS_OPEN`, `ERR_RATE_LIMITED`, `ERR_POOL_CLOSED`). For call-level metrics: one promise
   * reaction per call while any middleware has it, nothing otherwise. Return nothing: a throw or a
   * rejection is reported as a `CLIENTPOOL_CALLBACK_ERROR` warning.
   */
  onCallEnd?(end: CallEnd<T>): void;
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

/**
 * The `around` layers composed: runs `run` inside every `around`, the first registered outermost.
 * `isRefused` is asked before each inner layer: once the call is refused whatever it holds (its pool
 * closing, its signal aborted by an outer hook), the layers left are skipped for `run`, which refuses it.
 */
export type AroundChain<T> = (scope: CallScope<T>, run: () => Promise<unknown>, isRefused: () => boolean) => Promise<unknown>;

/** Compose the `around` hooks of `middleware`, or undefined when none has one. */
export function composeAround<T>(middleware: readonly Middleware<T>[]): AroundChain<T> | undefined {
  let chain: AroundChain<T> | undefined;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const layer = middleware[i]!;
    if (layer.around === undefined) continue;
    const inner = chain;
    const name = `the around hook of middleware "${layer.name}"`;
    // Each layer guarded on its own: what an inner hook does is caught there, not left to the outer one.
    chain = (scope, run, isRefused) => guardedAround(name, layer, scope, inner === undefined ? run : () => (isRefused() ? run() : inner(scope, run, isRefused)));
  }
  return chain;
}

/** A middleware in function form, the original's `WrapMiddleware`. */
export type MiddlewareFunction<T = unknown> = (call: Call<T>, next: Next) => Promise<unknown>;

/** Either form, as `pool.use()` takes it. */
export type AnyMiddleware<T> = Middleware<T> | MiddlewareFunction<T>;

/**
 * Bring both forms to the object form, refusing middleware that would run twice per call on the pool
 * whose middleware is `registered`.
 * @throws InvalidOptionError for anything else (`middleware`), for a middleware already registered
 *   (`middleware`), or for one with a call hook that a registered one has too (`middleware.execute`,
 *   `middleware.around`, ...: see `refuseSharedHooks`).
 */
export function toMiddleware<T>(middleware: AnyMiddleware<T>, registered: readonly Middleware<T>[] = []): Middleware<T> {
  const m = middleware as Partial<Middleware<T>> | null;
  let hasHook: boolean;
  try {
    hasHook = typeof middleware === 'function' || (typeof m === 'object' && m !== null && (typeof m.execute === 'function' || typeof m.onOutcome === 'function' || typeof m.around === 'function' || typeof m.onCallEnd === 'function'));
  } catch (error) {
    // A getter or Proxy trap that throws: a bad option, with what it threw as the cause.
    throw unreadableOptions('middleware', middleware, error);
  }
  if (!hasHook) throw new InvalidOptionError('middleware', 'a function or an object with execute(), onOutcome(), onCallEnd() or around()', middleware);
  // Twice on one pool, its hooks would run twice per call: an adapter would count every call twice.
  if (registered.some((known) => known === middleware || known.execute === middleware)) {
    throw new InvalidOptionError('middleware', 'used once per pool (this one is already in it)', middleware);
  }
  const normalized: Middleware<T> = typeof middleware === 'function' ? { name: middleware.name || 'anonymous', execute: middleware } : middleware;
  refuseSharedHooks(normalized, registered);
  return normalized;
}

/** The hooks that run per call: one function in two middleware of a pool runs, and counts, twice per call. */
const CALL_HOOKS = ['execute', 'onOutcome', 'onCallEnd', 'around'] as const;

/**
 * Refuse `middleware` when one of its call hooks is the very function another middleware of the pool has
 * for that hook: the same behaviour in another shape (`f`, then `{ execute: f }`, or one `{ around: g }`
 * twice). A method inherited from a class prototype is not compared: instances of one class share
 * their methods and each keeps its own state. Lifecycle hooks (`attach`, `close`) run once per pool, and
 * a helper shared by two middleware there (a flush) is no duplicate.
 * @throws InvalidOptionError naming the hook (`middleware.execute`), or for hooks that cannot be read.
 */
function refuseSharedHooks<T>(middleware: Middleware<T>, registered: readonly Middleware<T>[]): void {
  let shared: SharedHook<T> | undefined;
  try {
    shared = findSharedHook(middleware, registered);
  } catch (error) {
    throw unreadableOptions('middleware', middleware, error);
  }
  if (shared === undefined) return;
  const { hook, fn, known } = shared;
  throw new InvalidOptionError(
    `middleware.${hook}`,
    `a function no other middleware of this pool has for ${hook}() (it is the ${hook}() of middleware "${known.name}", already in the pool, and would run twice per call; instances of one class may share methods, other middleware may not)`,
    fn,
  );
}

/** A call hook of a new middleware that a registered one (`known`) has too. */
interface SharedHook<T> {
  readonly hook: (typeof CALL_HOOKS)[number];
  readonly fn: unknown;
  readonly known: Middleware<T>;
}

function findSharedHook<T>(middleware: Middleware<T>, registered: readonly Middleware<T>[]): SharedHook<T> | undefined {
  const mine = ownHooks(middleware);
  for (const known of registered) {
    const theirs = ownHooks(known);
    const hook = CALL_HOOKS.find((name) => mine[name] !== undefined && mine[name] === theirs[name]);
    if (hook !== undefined) return { hook, fn: mine[hook], known };
  }
  return undefined;
}

/** The call hooks of `middleware` that are its own, by name: those it does not inherit from a class prototype. */
function ownHooks(middleware: object): Partial<Record<(typeof CALL_HOOKS)[number], unknown>> {
  const hooks: Partial<Record<(typeof CALL_HOOKS)[number], unknown>> = {};
  for (const hook of CALL_HOOKS) {
    const fn: unknown = (middleware as Record<string, unknown>)[hook];
    if (typeof fn === 'function' && !isClassMethod(middleware, hook)) hooks[hook] = fn;
  }
  return hooks;
}

/** Deeper than any real class hierarchy; a Proxy can make a prototype chain endless. */
const MAX_PROTOTYPE_DEPTH = 64;

/** True when `object` inherits `key` from a class prototype (an object that is its constructor's `prototype`). */
function isClassMethod(object: object, key: string): boolean {
  let holder: object | null = object;
  for (let depth = 0; holder !== null && !Object.hasOwn(holder, key); depth++) {
    if (depth === MAX_PROTOTYPE_DEPTH) return false;
    holder = Object.getPrototypeOf(holder) as object | null;
  }
  if (holder === null || holder === object || !Object.hasOwn(holder, 'constructor')) return false;
  const { constructor } = holder as { constructor: unknown };
  return typeof constructor === 'function' && (constructor as { prototype?: unknown }).prototype === holder;
}

/**
 * One `around` hook, recovered: a hook that throws, rejects with a non-clientpool error or returns no
 * promise fails the call with a typed error; the call inside starts at most once however often `next()` is
 * called, and is never left with an unhandled rejection (started late, or not waited for).
 */
function guardedAround<T>(name: string, layer: Middleware<T>, scope: CallScope<T>, run: () => Promise<unknown>): Promise<unknown> {
  let inner: Promise<unknown> | undefined;
  let hasReturned = false;
  let isStarting = false;
  try {
    // An inline function, not a named one: a transpiler keeping names (tsx, esbuild's keepNames) would
    // otherwise define a `name` on every closure made per call.
    const result: unknown = layer.around!(scope, () => {
      if (inner === undefined) {
        // Called again from inside the first next() (fn calling a stored next()): no second journey.
        if (isStarting) return reentrantNext(name);
        isStarting = true;
        inner = run();
        // Started after the hook returned (a late next()): nobody waits for it, so nothing is left unhandled.
        if (hasReturned) inner.catch(noop);
      }
      return inner;
    });
    hasReturned = true;
    // A hook that started the call but returned another promise may not wait for it: handled too. (The
    // common hook returns next()'s own promise, which its caller handles: no extra reaction.)
    if (inner !== undefined && result !== inner) inner.catch(noop);
    // A subclass of Promise (its own `then` or `catch`), or a promise of another realm (a vm context): adopted
    // by a native one, so run() always returns a native promise and no rejection of theirs goes unhandled.
    if (result instanceof Promise || isThenable(result)) return Promise.resolve(result).catch((error: unknown) => aroundFailure(name, error));
    return aroundFailure(name, new CallbackError(name, `returned ${typeof result} instead of a promise (return next())`));
  } catch (error) {
    hasReturned = true;
    inner?.catch(noop);
    return aroundFailure(name, error);
  }
}

/**
 * The rejection for what an around hook (`name`) threw or rejected with: a clientpool error (any build's,
 * a user subclass with an odd `code` too) as it is, else a `CallbackError` with it as the cause (a forged
 * brand on a plain object included).
 */
export function aroundFailure(name: string, error: unknown): Promise<never> {
  return Promise.reject(isClientPoolErrorObject(error) ? error : new CallbackError(name, 'threw', error));
}

/** The brand on an `Error`, read safely (a Proxy whose traps throw is not one). */
function isClientPoolErrorObject(error: unknown): error is Error {
  try {
    return isClientPoolError(error) && error instanceof Error;
  } catch {
    return false;
  }
}

/** The refusal of a `next()` called while the first was still starting the call; handled, as a late one's. */
function reentrantNext(name: string): Promise<never> {
  const refusal = Promise.reject(new CallbackError(name, 'called next() again while its first next() was still starting the call: the call inside starts once'));
  refusal.catch(noop);
  return refusal;
}

function noop(): void {}

