import { CLOSED, type BreakerFactory } from './breaker/breaker.js';
import { ConsecutiveBreaker, type ConsecutiveBreakerOptions } from './breaker/consecutive.js';
import type { RunOptions } from './call.js';
import { systemClock, type Clock } from './clock.js';
import type { HealthCheckOptions } from './health/health-checker.js';
import { isLimiter, type Limiter } from './limit/limiter.js';
import { TokenBucket, type TokenBucketOptions } from './limit/token-bucket.js';
import type { AnyMiddleware } from './middleware/middleware.js';
import type { Random } from './random.js';
import type { HedgeOptions } from './resilience/hedge-policy.js';
import type { RetryBudgetOptions } from './resilience/retry-budget.js';
import type { RetryOptions } from './resilience/retry-policy.js';
import type { Strategy } from './balancers/strategies.js';
import { optionsObject } from './validate.js';

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
  /** Default timeout of every call in milliseconds. @default none */
  readonly timeout?: number;
  /**
   * A pool-wide rate limit, taken before a client is chosen: token-bucket options (`rate` per second,
   * `burst`), or any `Limiter` such as the Redis-backed bucket of `clientpool/redis`.
   * @default none
   */
  readonly limit?: Omit<TokenBucketOptions, 'clock'> | Limiter;
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
export type MethodOptions<T> = Pick<RunOptions<T>, 'timeout' | 'strategy' | 'retry' | 'hedge'>;

/** Options of `pool.add()`. */
export interface AddOptions<T> {
  /** Unique name, used in metrics and errors. @default `client-<n>` */
  readonly name?: string;
  /** Relative share for weighted strategies: a finite number > 0. @default 1 */
  readonly weight?: number;
  /** Called once the client has been removed and its calls have drained. */
  readonly close?: (client: T) => void | Promise<void>;
  /**
   * The client's own rate limit (an API key's quota): `{ rate, burst }` or a `TokenBucket`, whose empty
   * bucket makes the pool skip the client while another has tokens (calls wait only when all are empty);
   * or any other `Limiter`, such as a Redis bucket shared by a fleet, which is waited on after the
   * client was chosen (its answer is not synchronous, so it cannot route calls around the client).
   * @default none
   */
  readonly limit?: Omit<TokenBucketOptions, 'clock' | 'maxWait'> | TokenBucket | Limiter;
}

const noBreaker: BreakerFactory = () => ({
  state: CLOSED,
  acquire: () => 'call',
  canAcquire: () => true,
  success() {},
  failure() {},
  release() {},
});

/** The pool-wide limiter from the `limit` option. */
export function limiter(option: PoolOptions<unknown>['limit'], clock: Clock): Limiter | undefined {
  if (option === undefined) return undefined;
  if (isLimiter(option)) return option;
  optionsObject('limit', option);
  return new TokenBucket({ ...(option as TokenBucketOptions), clock }, 'limit');
}

/** The breaker factory from the `breaker` option; consecutive-breaker options are validated at once. */
export function breakerFactory(option: PoolOptions<unknown>['breaker']): BreakerFactory {
  if (option === false) return noBreaker;
  if (typeof option === 'function') return option;
  // Validate now, so that a bad option fails at construction rather than at the first add().
  new ConsecutiveBreaker(option, systemClock, 'breaker');
  return ({ clock }) => new ConsecutiveBreaker(option, clock, 'breaker');
}
