import type { Strategy } from './balancers/strategies.js';
import type { HedgeOptions } from './resilience/hedge-policy.js';
import type { RetryOptions } from './resilience/retry-policy.js';
import type { CacheOptions } from './pipeline/call-cache.js';
import type { Cost } from './limit/cost.js';

/**
 * A typed key for values that middleware share on a call, the equivalent of the original's
 * `context.Context` keys. Create one per concept with {@link callKey} and keep it module-level.
 */
export interface CallKey<V> {
  readonly description: string;
  /** Phantom: carries the value type. Never set. */
  readonly __value?: V;
}

/** Create a {@link CallKey}. */
export function callKey<V>(description: string): CallKey<V> {
  return Object.freeze({ description });
}

/** Per-call options of `pool.run()`. */
export interface RunOptions<T> {
  /**
   * Label of the call for metrics, traces and logs (`get_slot`). Keep the set of values small.
   * @default 'unknown'
   */
  readonly method?: string;
  /** Strategy for this call instead of the pool's. */
  readonly strategy?: Strategy<T>;
  /** Abort the call. Its reason is kept: the call rejects with `AbortedError` whose `cause` is the reason. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the call fails with `TimeoutError` (counted as a client failure). Overrides the pool's. */
  readonly timeout?: number;
  /**
   * Milliseconds for the whole call from `run()`: every attempt, retry backoff, hedge and wait for a token
   * or a client included. Each attempt's timeout is the smaller of its own and what is left; a backoff
   * that cannot end before the deadline is not started. Past it the call fails with
   * `DeadlineExceededError` (`ERR_DEADLINE_EXCEEDED`). An integer from 1 to 2^31-1. Overrides the
   * method's and the pool's.
   */
  readonly deadline?: number;
  /** Retry on another client, overriding the method's and the pool's policy (`false`: none). */
  readonly retry?: RetryOptions | false;
  /** Hedge on another client, overriding the method's and the pool's policy (`false`: none). */
  readonly hedge?: HedgeOptions | false;
  /**
   * Affinity: calls with the same key go to the same client while it is ready (consistent hashing; about
   * 1/n of keys move when a client is added or removed).
   */
  readonly key?: string;
  /** Longest wait for a rate-limit token in milliseconds. Overrides the pool's `maxWait`. */
  readonly maxWait?: number;
  /** A trace ID to pass on (read by the `traceId()` middleware); one is generated when absent. */
  readonly traceId?: string;
  /**
   * Single flight: calls with the same key that overlap share one journey through the pool (one upstream
   * call, with its retries and hedges), and its result or error reaches each. The first caller's function
   * and options run it; each caller keeps its own `signal`, and the shared call is aborted only once every
   * caller has aborted. A non-empty string; give the same key only to calls that do the same work.
   */
  readonly coalesce?: string;
  /**
   * With `coalesce`: reuse the result for `ttl` ms, and serve one younger than `staleIfError` ms when the
   * call fails, telling `onStale` (never silently). Kept in the pool's LRU (`cacheSize`). See `CacheOptions`.
   */
  readonly cache?: CacheOptions;
  /**
   * Read-your-writes: only a client at this height (block, slot, LSN) or above serves the call, and it
   * waits (up to `maxWait`, or its deadline) for a client in sync with the head to reach it, else fails
   * with `HeightNotReachedError`. A non-negative safe integer, or a bigint up to 2^53 - 1
   * (docs/freshness.md).
   */
  readonly minHeight?: number | bigint;
  /**
   * What each attempt of the call takes of the limits, by limit name: `{ tokens: 1200 }`. `requests` is 1
   * unless given; a name no limit counts costs nothing. A client is picked only when every one of its own
   * limits has room for the amount; settle the real figure later with `call.settle()`. Overrides the
   * method's `cost`. Each amount a finite number from 0 to 2^53-1 (docs/cost-quotas.md).
   * @default { requests: 1 }
   */
  readonly cost?: Cost;
  /**
   * Its priority under load (docs/priority-shedding.md): `high` calls waiting for a client are served
   * before `normal` ones (FIFO within each); a `low` call never waits: when no client, slot or token is
   * free for it at once outside the pool's `reserve` share, it fails with `ShedError` (`ERR_SHED`).
   * Overrides the method's `priority`.
   * @default 'normal'
   */
  readonly priority?: Priority;
}

/** A call's priority under load: `high` first, `low` shed before it waits. */
export type Priority = 'high' | 'normal' | 'low';

/**
 * The run options of a call that gave none, one frozen object: the pipeline recognises it by identity and
 * then reads no option at all (reads that see every options shape of an app are megamorphic).
 */
export const EMPTY_OPTIONS: RunOptions<never> = Object.freeze({});

/** What middleware and the user's function see of one call. */
export interface Call<T> {
  /** The chosen client. */
  readonly client: T;
  /** Its name in the pool. */
  readonly clientName: string;
  /** The method label. */
  readonly method: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Why this attempt runs: the call's first, a retry after failures, or a hedge of a slow attempt. */
  readonly kind: AttemptKind;
  /** Aborted when the caller aborts or the timeout passes; never aborted after success. */
  readonly signal: AbortSignal;
  /** The options the call was run with: a copy with every run option as a key (undefined where not given), each read once when the call started. */
  readonly options: RunOptions<T>;
  /** A value that middleware set on this call. */
  get<V>(key: CallKey<V>): V | undefined;
  /** Share a value with later middleware and the user's function. */
  set<V>(key: CallKey<V>, value: V): void;
  /**
   * Report that the upstream asked for a pause (HTTP 429 with `Retry-After`): this client's bucket is
   * drained and it takes no call for `ms`, while the others carry on.
   */
  pauseClient(ms: number): void;
  /**
   * Report this client's height (block number, slot, replication LSN) as its answer showed it: the pool
   * routes on heights (docs/freshness.md). A non-negative safe integer, or a bigint up to 2^53 - 1.
   * @throws InvalidOptionError for anything else.
   */
  reportHeight(height: number | bigint): void;
  /**
   * Settle what this attempt really cost once it is known (`call.settle({ tokens: 950 })` after the
   * answer said so): each limit named is charged, or refunded, the difference from what the attempt took
   * for it (its `cost`), on the pool's limits and this client's. Each call sets the figure (it does not
   * add to it), so calling it again corrects it; it may come after the attempt ended (a stream's usage
   * arrives at its end). docs/cost-quotas.md.
   * @throws InvalidOptionError for an amount that is not a finite number from 0 to 2^53-1.
   */
  settle(actual: Cost): void;
}

/** Why an attempt runs. */
export type AttemptKind = 'first' | 'retry' | 'hedge' | 'quorum';

/** What `around` middleware sees of a whole `pool.run()`, once, around all its attempts. */
export interface CallScope<T> {
  readonly method: string;
  readonly options: RunOptions<T>;
  /** Whether the call may make several attempts (a retry or hedge policy applies to it). */
  readonly isResilient: boolean;
}

/** The user's function: gets the chosen client and the call. */
export type CallFunction<T, R> = (client: T, call: Call<T>) => R | PromiseLike<R>;
