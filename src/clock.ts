/**
 * Where the pool reads time. Injected so that breakers, buckets and latency tracking can run on a fake
 * clock in tests and simulations. Units are milliseconds; only differences matter.
 */
export interface Clock {
  now(): number;
}

/** The default clock: `performance.now()`, monotonic and sub-millisecond. */
export const systemClock: Clock = { now: () => performance.now() };
