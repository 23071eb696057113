/** Options of one wait for tokens. */
export interface TakeOptions {
  /** Give up waiting: the take rejects with `AbortedError` (reason as `cause`) and takes nothing. */
  readonly signal?: AbortSignal;
  /**
   * Longest wait in milliseconds; a take that cannot be served in time fails at once with
   * `RateLimitedError` (and its `retryAfterMs`) rather than waiting in vain.
   */
  readonly maxWait?: number;
}

/**
 * A source of rate-limit tokens, as the pool-wide `limit` option takes it. The in-memory
 * `TokenBucket` and the Redis-backed bucket of `clientpool/redis` implement it.
 */
export interface Limiter {
  /** Take `n` tokens, waiting in FIFO order; rejects `RateLimitedError` or `AbortedError`. */
  take(n: number, options?: TakeOptions): Promise<void>;
  /** Synchronous fast path: take `n` tokens if they are there now. */
  tryTake?(n: number): boolean;
  /**
   * Settle a call's real cost once it is known (`call.settle()`): `n > 0` charges `n` more tokens at once,
   * without waiting (the bucket may go into debt, refusing takes until it has refilled); `n < 0` gives
   * `-n` tokens back (never past a full bucket). Must not throw or reject: the pool calls it after the
   * call and cannot fail it then. A limiter without it keeps what it took.
   */
  adjust?(n: number): void;
  /** Stop timers and reject waiters; called by `pool.close()`. */
  close?(): void | Promise<void>;
}

/** Whether `value` is a `Limiter` (has `take`), rather than token-bucket options. */
export function isLimiter(value: unknown): value is Limiter {
  return typeof value === 'object' && value !== null && typeof (value as { take?: unknown }).take === 'function';
}
