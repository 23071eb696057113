import { CLOSED, type Breaker, type BreakerFactory } from './breaker/breaker.js';
import type { Fleet } from './fleet/fleet.js';
import { ConsecutiveBreaker, type ConsecutiveBreakerOptions } from './breaker/consecutive.js';
import { guardedBreaker } from './breaker/guarded-breaker.js';
import { EMPTY_OPTIONS, type RunOptions } from './call.js';
import { systemClock, type Clock } from './clock.js';
import type { HealthCheckOptions } from './health/health-checker.js';
import { minHeightOption, type FreshnessOptions } from './freshness/freshness-options.js';
import { adaptiveLimit, isAdaptiveLimitOptions, type AdaptiveLimitOptions, type ConcurrencyLimit } from './limit/adaptive/concurrency-limit.js';
import { costOption, DEFAULT_COST } from './limit/cost.js';
import { NORMAL, priorityOption, reserveOption } from './limit/priority.js';
import type { Limiter } from './limit/limiter.js';
import type { ClientLimitOptions, Limits, PoolLimitOptions } from './limit/limits-option.js';
export { quotaOption } from './limit/limits-option.js';
import type { TokenBucket } from './limit/token-bucket.js';
import type { AnyMiddleware } from './middleware/middleware.js';
import type { Random } from './random.js';
import type { HedgeOptions } from './resilience/hedge-policy.js';
import type { RetryBudgetOptions } from './resilience/retry-budget.js';
import type { RetryOptions } from './resilience/retry-policy.js';
import type { Strategy } from './balancers/strategies.js';
import { givenOr, abortSignal, between, duration, keySet, knownKeys, nonEmptyString, optionsObject, positiveDuration, unreadableOptions } from './validate.js';
import { AbortedError, CallbackError, InvalidOptionError, type ClientPoolError } from './errors.js';
import type { Balancer } from './balancers/balancer.js';
import { retryPolicy, type RetryPolicy } from './resilience/retry-policy.js';
import type { HedgePolicy } from './resilience/hedge-policy.js';
import type { Plan } from './pipeline/attempt.js';

/** Options of a {@link ClientPool}. */
export interface PoolOptions<T> {
  /**
   * How a client is chosen for each call: a built-in name or your own `Balancer`.
   * @default 'round-robin'
   */
  readonly strategy?: Strategy<T>;
  /**
   * The per-client circuit breaker: options of the consecutive-failure breaker, a factory for another
   * kind, or `false` for none.
   * @default { maxFailures: 5, cooldown: 10_000, halfOpenProbes: 1 }
   */
  readonly breaker?: ConsecutiveBreakerOptions | BreakerFactory | false;
  /**
   * Decides whether an error counts against the client's breaker. An error it rejects (say a 404)
   * tells the breaker the client answered; it still counts in the client's `failures` in `members()`.
   * A timeout always counts; the caller's own abort never does.
   * @default every error counts
   */
  readonly isFailure?: (error: unknown) => boolean;
  /**
   * Results the `cache` run option keeps at most, least recently used dropped first. An integer >= 1.
   * @default 1_000
   */
  readonly cacheSize?: number;
  /** Default timeout of every call in milliseconds. @default none */
  readonly timeout?: number;
  /**
   * Default deadline of every call in milliseconds, across all its attempts, backoffs, hedges and waits
   * (see `RunOptions.deadline`). @default none
   */
  readonly deadline?: number;
  /**
   * A pool-wide rate limit, taken by every attempt before a client is chosen: token-bucket options
   * (`rate` per `per` ms, `burst`), any `Limiter` such as the Redis-backed bucket of `clientpool/redis`,
   * or several limits by name (`{ requests: { rate: 50 }, tokens: { rate: 90_000, per: 60_000 } }`), of
   * which each call takes its `cost` (docs/cost-quotas.md).
   * @default none
   */
  readonly limit?: PoolLimitOptions | Limiter | Limits<PoolLimitOptions>;
  /**
   * The share of each client's concurrency cap and of each in-memory limit (the pool's and the
   * clients') that `priority: 'low'` calls may not use: kept for `normal` and `high` ones, so that low
   * calls are shed first under load (docs/priority-shedding.md). A number from 0 to below 1.
   * @default 0.2
   */
  readonly reserve?: number;
  /**
   * Longest wait in milliseconds for a rate-limit token, pool-wide or when every client's own bucket is
   * empty; past it the call fails with `RateLimitedError`. A call may override it.
   * @default 1_000
   */
  readonly maxWait?: number;
  /** Retry failed calls on another client. @default no retries */
  readonly retry?: RetryOptions | false;
  /** Hedge slow calls on another client. @default no hedging */
  readonly hedge?: HedgeOptions | false;
  /**
   * The pool's budget for retries and hedges (`false`: unbounded, not recommended).
   * @default { ratio: 0.1, reserve: 10 }
   */
  readonly retryBudget?: RetryBudgetOptions | false;
  /**
   * Options per method *label* (the `method` run option), between the pool's and the call's:
   * `{ get_block: { timeout: 5_000 } }`. (`pool.proxy({ methods })` is keyed by the client's method
   * names instead, `getBlock`.)
   */
  readonly methods?: Readonly<Record<string, MethodOptions<T>>>;
  /** Middleware, outermost first; more can be added with `use()`. */
  readonly middleware?: readonly AnyMiddleware<T>[];
  /**
   * Percentage of clients that may be out (circuit open, or down) before traffic spreads over all of
   * them at random, as Envoy's panic threshold: better to load every client than to crush the last few.
   * 100 keeps the original behaviour: fail fast with `AllCircuitsOpenError`.
   * @default 100
   */
  readonly maxEjectedPercent?: number;
  /**
   * Slow start: a client coming back (added to a serving pool, closed after being open, or healthy again)
   * ramps its share of traffic from `minShare` to full over `window` ms.
   * @default off
   */
  readonly slowStart?: { readonly window: number; readonly minShare?: number };
  /** Active health checks; failing clients are taken out of the rotation. @default off */
  readonly healthCheck?: HealthCheckOptions<T>;
  /**
   * Share what this pool learns of its clients with the other processes of a fleet, and apply what they
   * learn: circuit openings (a fleet-wide half-open probe), pauses, health and heights. A `RedisFleet`
   * from `clientpool/redis` (docs/fleet.md). A fleet object serves one pool.
   * @default none: every process learns alone
   */
  readonly fleet?: Fleet;
  /**
   * Height-aware routing: how far a client may trail the corroborated head, and an optional poll of each
   * client's height (docs/freshness.md). Heights reported by calls are tracked without it. @default no poll, maxLag Infinity
   */
  readonly freshness?: FreshnessOptions<T>;
  /**
   * Time every call to keep each client's peak-EWMA latency (in `members()`). Reading the clock twice
   * costs about 90 ns per call here, so it is on only when asked for or when something uses it: the
   * `p2c-ewma` strategy, or a breaker that counts slow calls.
   * @default false
   */
  readonly measureLatency?: boolean;
  /** Time source. @default performance.now() */
  readonly clock?: Clock;
  /** Randomness for random strategies. @default Math.random */
  readonly random?: Random;
}

/** Options that can be set per method (`methods`) and per call. */
export type MethodOptions<T> = Pick<RunOptions<T>, 'timeout' | 'deadline' | 'strategy' | 'retry' | 'hedge' | 'cost' | 'priority'>;

/** Options of `pool.add()`. */
export interface AddOptions<T> {
  /** Unique name, used in metrics and errors. @default `client-<n>` */
  readonly name?: string;
  /**
   * Relative share for weighted strategies, from 1e-6 to 1e6 (beyond, the balancers' arithmetic would
   * underflow or overflow and skew every pick).
   * @default 1
   */
  readonly weight?: number;
  /** Called once the client has been removed and its calls have drained. */
  readonly close?: (client: T) => void | Promise<void>;
  /**
   * The client's own rate limit (an API key's quota): `{ rate, per, burst }` or a `TokenBucket`, whose
   * empty bucket makes the pool skip the client while another has tokens (calls wait only when all are
   * empty); or any other `Limiter`, such as a Redis bucket shared by a fleet, which is waited on after the
   * client was chosen (its answer is not synchronous, so it cannot route calls around the client); or
   * several limits by name, each one of those (`{ requests: { rate: 50 }, tokens: { rate: 40_000, per:
   * 60_000 } }`), of which each call takes its `cost` (docs/cost-quotas.md).
   * @default none
   */
  readonly limit?: ClientLimitOptions | TokenBucket | Limiter | Limits<ClientLimitOptions>;
  /**
   * The most calls in flight on this client at once (a bulkhead: Hystrix's semaphore isolation, Envoy's
   * `max_requests` per host). At it, the client is passed over as an empty bucket is; when every client
   * is at its cap or out of tokens, calls wait (FIFO, `maxWait`, their signal, their deadline) for a slot
   * and fail with `ConcurrencyLimitedError` (`ERR_CONCURRENCY_LIMITED`) when none frees in time. An
   * integer from 1 to 2^31-1; or an adaptive limit learned from the client's latency and failures,
   * `{ adaptive: 'gradient2' | 'aimd', min, max, ... }` (docs/adaptive-concurrency.md), whose current
   * value `members()` reports as `maxInFlight`.
   * @default no cap
   */
  readonly maxInFlight?: number | AdaptiveLimitOptions;
  /**
   * Priority tier (failover group): lower serves first. A tier takes calls only while no client of a lower
   * tier is ready (all open, down, out of tokens, at their cap or paused); the strategy balances within
   * the tier serving, and traffic returns to a lower tier on the next pick once one of its clients is
   * ready again. An integer from 0 to 2^31-1.
   * @default 0
   */
  readonly tier?: number;
}

const POOL_KEYS = keySet(['fleet', 'freshness', 'strategy', 'breaker', 'isFailure', 'timeout', 'deadline', 'cacheSize', 'limit', 'reserve', 'maxWait', 'retry', 'hedge', 'retryBudget', 'methods', 'middleware', 'maxEjectedPercent', 'slowStart', 'healthCheck', 'measureLatency', 'clock', 'random']);
const METHOD_KEYS = keySet(['timeout', 'deadline', 'strategy', 'retry', 'hedge', 'cost', 'priority']);
const ADD_KEYS = keySet(['name', 'weight', 'close', 'limit', 'maxInFlight', 'tier']);
const RUN_KEYS = keySet(['method', 'strategy', 'signal', 'timeout', 'deadline', 'coalesce', 'cache', 'retry', 'hedge', 'key', 'maxWait', 'traceId', 'minHeight', 'cost', 'priority']);
const CLOSE_KEYS = keySet(['signal']);
const BREAKER_KEYS = keySet(['maxFailures', 'cooldown', 'halfOpenProbes', 'cooldownMultiplier', 'maxCooldown']);
const SLOW_START_KEYS = keySet(['window', 'minShare']);

/**
 * Check the shape of the pool's options: an object (or undefined) whose every key is a known option.
 * @throws InvalidOptionError naming a misspelt or misplaced key (`timout`) and the known ones.
 */
export function checkPoolOptions(options: unknown): void {
  optionsObject('options', options);
  if (options !== undefined) knownKeys('options', options as object, POOL_KEYS);
}

/**
 * Check the shape of `add()`'s options: an object (or undefined) whose every key is a known option.
 * @throws InvalidOptionError naming a misspelt key (`wieght`) and the known ones.
 */
/** The `middleware` option of the pool: an array (of middleware, checked one by one by `use()`), or none. */
export function middlewareOption<T>(value: unknown): readonly AnyMiddleware<T>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('middleware', 'an array', value);
  return value as readonly AnyMiddleware<T>[];
}

/** The largest `maxInFlight` and `tier`: 2^31-1, as for every count and duration option. */
const MAX_COUNT = 2 ** 31 - 1;

/** The `cacheSize` option of the pool: an integer from 1 to 2^31-1, 1 000 when absent. */
export function cacheSizeOption(value: unknown): number {
  if (value === undefined) return 1_000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COUNT) throw new InvalidOptionError('cacheSize', `an integer from 1 to ${MAX_COUNT}`, value);
  return value;
}

/** The `tier` option of `add()`: an integer from 0 to 2^31-1, 0 when absent. */
export function tierOption(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_COUNT) throw new InvalidOptionError('tier', `an integer from 0 to ${MAX_COUNT}`, value);
  return value;
}

/**
 * The `maxInFlight` option of `add()`: an integer from 1 to 2^31-1, undefined when absent, or a fresh
 * adaptive limit (one per client) from `{ adaptive: 'aimd' | 'gradient2', ... }`.
 */
export function maxInFlight(value: unknown): number | ConcurrencyLimit | undefined {
  if (value === undefined) return undefined;
  if (isAdaptiveLimitOptions(value)) return adaptiveLimit('maxInFlight', value);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COUNT) throw new InvalidOptionError('maxInFlight', `an integer from 1 to ${MAX_COUNT}`, value);
  return value;
}

export function checkAddOptions(options: unknown): void {
  optionsObject('add options', options);
  if (options !== undefined) knownKeys('add options', options as object, ADD_KEYS);
}

/**
 * What is wrong with `close()`'s options, if anything (an object with only `signal`, an `AbortSignal`):
 * returned rather than thrown, as `close()` reports it as a rejection.
 */
export function closeOptionsError(options: unknown): ClientPoolError | undefined {
  try {
    optionsObject('close options', options);
    if (options === undefined) return undefined;
    knownKeys('close options', options as object, CLOSE_KEYS);
    abortSignal('signal', (options as CloseOptions).signal);
    return undefined;
  } catch (error) {
    return unreadableOptions('close options', options, error);
  }
}

const noBreaker: BreakerFactory = () => ({
  state: CLOSED,
  acquire: () => 'call',
  canAcquire: () => true,
  success() {},
  failure() {},
  release() {},
});

/**
 * The breaker factory from the `breaker` option; consecutive-breaker options are validated at once. A
 * factory of your own is guarded: its breakers' throws are reported through `warn`, never the pool's.
 */
export function breakerFactory(option: PoolOptions<unknown>['breaker'], warn: (what: string, error: unknown) => void = () => {}): BreakerFactory {
  if (option === false) return noBreaker;
  if (typeof option === 'function') {
    return (context) => {
      let breaker: Breaker;
      try {
        breaker = option(context);
      } catch (error) {
        throw new CallbackError('the breaker factory', 'threw', error);
      }
      return guardedBreaker(breaker, warn);
    };
  }
  // Validate now, so that a bad option fails at construction rather than at the first add().
  if (option !== undefined) {
    optionsObject('breaker', option);
    knownKeys('breaker', option, BREAKER_KEYS);
  }
  new ConsecutiveBreaker(option, systemClock, 'breaker');
  return ({ clock }) => new ConsecutiveBreaker(option, clock, 'breaker');
}

/** Options resolved for the pool, or for one method: what a call falls back on, and the plan of calls that override nothing. */
export interface MethodDefaults<T> extends Plan<T> {
  readonly retry: RetryPolicy | undefined;
  readonly hedge: HedgePolicy | undefined;
}

/** What resolving needs of the pool: balancers by strategy, and hedge policies (which may turn timing on). */
export interface DefaultsHost<T> {
  balancerFor(strategy: Strategy<T>, option: string): Balancer<T>;
  hedgePolicy(option: HedgeOptions | false | undefined, prefix: string): HedgePolicy | undefined;
}

/** The pool's defaults, and each method's (method > pool), validated once. */
export function resolveDefaults<T>(options: PoolOptions<T>, host: DefaultsHost<T>): { pool: MethodDefaults<T>; methods: Map<string, MethodDefaults<T>> | undefined } {
  const maxWait = duration('maxWait', givenOr(options.maxWait, 1_000));
  const pool: MethodDefaults<T> = {
    maxWait,
    timeout: options.timeout === undefined ? undefined : positiveDuration('timeout', options.timeout),
    deadline: options.deadline === undefined ? undefined : positiveDuration('deadline', options.deadline),
    deadlineAt: undefined,
    balancer: host.balancerFor(givenOr(options.strategy, 'round-robin'), 'strategy'),
    cost: DEFAULT_COST,
    priority: NORMAL,
    isPlainPick: true,
    retry: retryPolicy(options.retry),
    hedge: host.hedgePolicy(options.hedge, 'hedge'),
  };
  if (options.methods === undefined) return { pool, methods: undefined };
  optionsObject('methods', options.methods);
  const methods = new Map<string, MethodDefaults<T>>();
  for (const [method, own] of Object.entries(options.methods)) {
    const prefix = `methods.${method}`;
    optionsObject(prefix, own);
    knownKeys(prefix, own, METHOD_KEYS);
    // A getter that throws: a bad option of that method, with what it threw as the cause.
    try {
      methods.set(method, methodDefaults(own, prefix, pool, maxWait, host));
    } catch (error) {
      throw unreadableOptions(prefix, own, error);
    }
  }
  return { pool, methods };
}

/** One method's defaults: its own options over the pool's. */
function methodDefaults<T>(own: MethodOptions<T>, prefix: string, pool: MethodDefaults<T>, maxWait: number, host: DefaultsHost<T>): MethodDefaults<T> {
  const cost = own.cost === undefined ? DEFAULT_COST : costOption(`${prefix}.cost`, own.cost);
  const priority = own.priority === undefined ? NORMAL : priorityOption(`${prefix}.priority`, own.priority);
  return {
    maxWait,
    timeout: own.timeout === undefined ? pool.timeout : positiveDuration(`${prefix}.timeout`, own.timeout),
    deadline: own.deadline === undefined ? pool.deadline : positiveDuration(`${prefix}.deadline`, own.deadline),
    deadlineAt: undefined,
    balancer: own.strategy === undefined ? pool.balancer : host.balancerFor(own.strategy, `${prefix}.strategy`),
    cost,
    priority,
    isPlainPick: cost === DEFAULT_COST && priority === NORMAL,
    retry: own.retry === undefined ? pool.retry : retryPolicy(own.retry, `${prefix}.retry`),
    hedge: own.hedge === undefined ? pool.hedge : host.hedgePolicy(own.hedge, `${prefix}.hedge`),
  };
}

/**
 * Check the shape of run options, once per call that gives any: every key a known option (a loop over
 * its keys, no array made), every value of the right type. A Proxy or a getter that throws is refused
 * with `InvalidOptionError`, what it threw as the `cause`. The policies among them (`retry`, `hedge`) are
 * validated where they are resolved, once per options object.
 * @throws InvalidOptionError; AbortedError instead when `signal` has aborted (a call checks its signal first)
 */
export function checkRunOptions(options: RunOptions<unknown>): void {
  readRunOptions(options);
}

/**
 * Check run options (as `checkRunOptions` says) and read each of them once: the call runs with the copy,
 * a plain object of one shape (every known option, in this order), from which the pipeline reads them
 * from then on. A getter or a Proxy is read once per call, so it cannot answer one way when checked and
 * another (or throw) at a later read; and the pipeline's reads of options see one shape, whatever shapes
 * the callers' options have. One function, the checks written out: too big for V8 to inline into the
 * call's journey, whose own budget for inlining is better spent on the pipeline.
 * @throws InvalidOptionError, what a getter or a Proxy threw as its `cause`; AbortedError instead for a
 *   bad value beside an aborted `signal` (a call checks its signal first)
 */
export function readRunOptions<T>(options: RunOptions<T>): RunOptions<T> {
  let isKnown = true;
  let read: RunOptions<T>;
  try {
    optionsObject('run options', options); // In the try: `Array.isArray` throws on a revoked Proxy.
    for (const key in options) {
      if (!isRunKey(key)) {
        isKnown = false;
        break;
      }
    }
  } catch (error) {
    throw unreadableOptions('run options', options, error);
  }
  if (!isKnown) knownKeys('run options', options, RUN_KEYS);
  try {
    // In the order they are checked: the call's own keys first, then its plan's, then its policies'.
    read = {
      signal: options.signal,
      method: options.method,
      key: options.key,
      traceId: options.traceId,
      coalesce: options.coalesce,
      minHeight: options.minHeight,
      cache: options.cache,
      deadline: options.deadline,
      maxWait: options.maxWait,
      timeout: options.timeout,
      strategy: options.strategy,
      cost: options.cost,
      priority: options.priority,
      retry: options.retry,
      hedge: options.hedge,
      // Every key present, undefined where not given: the pipeline tests each for undefined, never for presence.
    } as RunOptions<T>;
  } catch (error) {
    throw unreadableOptions('run options', options, error);
  }
  let isSignal = false;
  try {
    abortSignal('signal', read.signal);
    isSignal = true;
    if (read.method !== undefined) nonEmptyString('method', read.method);
    if (read.key !== undefined && typeof read.key !== 'string') throw new InvalidOptionError('key', 'a string', read.key);
    if (read.traceId !== undefined) nonEmptyString('traceId', read.traceId);
    if (read.coalesce !== undefined) nonEmptyString('coalesce', read.coalesce);
    if (read.minHeight !== undefined) {
      minHeightOption(read.minHeight);
      // A shared flight or a cached result knows nothing of the height it was read at.
      if (read.coalesce !== undefined) throw new InvalidOptionError('minHeight', 'left out when coalesce is given (a shared or cached answer may be from below it)', read.minHeight);
    }
    if (read.cache !== undefined && read.coalesce === undefined) throw new InvalidOptionError('cache', 'given with a coalesce key, which names the cached result', read.cache);
    if (read.maxWait !== undefined) duration('maxWait', read.maxWait);
  } catch (error) {
    // Refused as aborted whatever else it holds, as for its plan's values: the call checks its signal first.
    if (isSignal && read.signal !== undefined && read.signal.aborted) throw new AbortedError(read.signal.reason);
    // A check that reads the value (`instanceof AbortSignal` asks a Proxy for its prototype) may throw too.
    throw unreadableOptions('run options', options, error);
  }
  // Last, once every getter has been read and every value checked: the caller asks at once.
  LAST_READ.isLabelOnly = read.signal === undefined && read.key === undefined && read.coalesce === undefined && read.minHeight === undefined && read.deadline === undefined && read.maxWait === undefined && read.timeout === undefined && read.strategy === undefined && read.cost === undefined && read.priority === undefined && read.hedge === undefined;
  return read;
}

/** What `readRunOptions` found of the options it returned last. A boolean: no write barrier per call, as storing the copy would have. */
const LAST_READ = { isLabelOnly: false };

/**
 * Whether the options `readRunOptions` has just returned (asked at once: no user code may run between)
 * set nothing but a label (`method`, `traceId`) and `retry`: a call with them runs as one with no options
 * does, on its method's plan as it is. Answered from what `readRunOptions` found (its values in registers
 * there), not by loading eleven fields of the copy again.
 */
export function readWasLabelOnly(): boolean {
  return LAST_READ.isLabelOnly;
}

/**
 * Run options `#call` could not read, and why: the call runs no further than its closed and `fn` checks,
 * then rejects with `error`, as a call without hooks does. Its options are never read again (a getter that
 * throws once would answer a second read, and the call would run). Its observers get them as `given`,
 * labelled by `method`: their own `method` data property when a string, read with no getter run.
 */
// A refusal's brand: a symbol no caller holds, so no options object, copy or prototype can fake it, and
// `in` on the library's own copies is a map check (a `#private in` check costs about 200 instructions on Node 20).
const REFUSAL = Symbol('clientpool.OptionsRefusal');

export class OptionsRefusal {
  readonly [REFUSAL] = true;
  readonly method: string | undefined;

  constructor(
    readonly given: unknown,
    readonly error: unknown,
  ) {
    let method: unknown;
    try {
      method = typeof given === 'object' && given !== null ? Object.getOwnPropertyDescriptor(given, 'method')?.value : undefined;
    } catch {
      // A Proxy's trap threw: no label ('unknown').
    }
    this.method = typeof method === 'string' && method !== '' ? method : undefined;
  }

  /** Whether `value` (the library's copy of run options, or a refusal) is a refusal, by its brand. */
  static is(value: object): value is OptionsRefusal {
    return REFUSAL in value;
  }
}

/**
 * `readRunOptions`, once for a call with hooks or a trace: the copy (`EMPTY_OPTIONS` as it is), or the
 * refusal, returned rather than thrown, so that the hooks and trace hear it as the call's end.
 */
export function readRunOptionsOrRefusal<T>(options: RunOptions<T>): RunOptions<T> | OptionsRefusal {
  if (options === EMPTY_OPTIONS) return options;
  try {
    return readRunOptions(options);
  } catch (error) {
    return new OptionsRefusal(options, error);
  }
}

// `knownKeys` for run options, on the hot path (`readRunOptions`): a `switch` over interned strings is
// several times faster than a `Set` lookup (about 10 ns a call with two options, against 50), and no array
// is made. The error, rare, is built by `knownKeys`.
function isRunKey(key: string): boolean {
  switch (key) {
    // The usual ones first: the cases are compared in order.
    case 'method':
    case 'timeout':
    case 'signal':
    case 'retry':
    case 'strategy':
    case 'deadline':
    case 'coalesce':
    case 'cache':
    case 'hedge':
    case 'key':
    case 'maxWait':
    case 'traceId':
    case 'minHeight':
    case 'cost':
    case 'priority':
      return true;
    default:
      return false;
  }
}

/** Options of `pool.close()`. */
export interface CloseOptions {
  /**
   * Bounds the wait for calls in flight and close hooks: when it aborts, `close()` turns into
   * `destroy(signal.reason)`, and a close hook still pending is given up (a `CLIENTPOOL_CALLBACK_ERROR`
   * warning names it; `close()` resolves all the same).
   * @default wait for every call and every close hook to settle
   */
  readonly signal?: AbortSignal;
}

/** The roster's policy for clients coming back or going out, from the pool's options. */
export function rosterPolicy(options: Pick<PoolOptions<unknown>, 'maxEjectedPercent' | 'slowStart' | 'reserve'>): { maxEjected: number; slowStartWindow: number; slowStartMinShare: number; reserve: number } {
  optionsObject('slowStart', options.slowStart);
  const slowStart = options.slowStart;
  if (slowStart !== undefined) knownKeys('slowStart', slowStart, SLOW_START_KEYS);
  return {
    maxEjected: between('maxEjectedPercent', givenOr(options.maxEjectedPercent, 100), 0, 100) / 100,
    slowStartWindow: slowStart === undefined ? 0 : positiveDuration('slowStart.window', slowStart.window),
    slowStartMinShare: between('slowStart.minShare', givenOr(slowStart?.minShare, 0.1), 0, 1),
    reserve: reserveOption(options.reserve),
  };
}

/** The range of a client's `weight`: shares outside it would underflow or overflow the balancers' sums. */
export const MIN_WEIGHT = 1e-6;
export const MAX_WEIGHT = 1e6;
