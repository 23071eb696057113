/**
 * Where the pool reads time. Injected so that breakers, buckets and latency tracking can run on a fake
 * clock in tests and simulations. Units are milliseconds; only differences matter.
 */
export interface Clock {
  now(): number;
}

/** The default clock: `performance.now()`, monotonic and sub-millisecond. */
export const systemClock: Clock = { now: () => performance.now() };

/**
 * A clock of the user's, guarded: a reading that throws or is not a finite number (NaN, Infinity) would
 * leave a call's bookkeeping half done or put every deadline out of reach, so it is replaced by the last
 * good reading (time stands still; the pool's timers still fire) and reported through `warn`, once per
 * run of bad readings. The default clock is returned as it is.
 */
export function guardedClock(clock: Clock | undefined, warn: (what: string, error: unknown) => void): Clock {
  if (clock === undefined) return systemClock;
  let last = 0;
  let isFailing = false;
  const fail = (error: unknown): number => {
    if (!isFailing) warn('clock.now()', error);
    isFailing = true;
    return last;
  };
  return {
    now: () => {
      let reading: unknown;
      try {
        reading = clock.now();
      } catch (error) {
        return fail(error);
      }
      if (typeof reading !== 'number' || !Number.isFinite(reading)) return fail(new TypeError(`clock.now() returned ${String(reading)}, not a finite number of ms`));
      isFailing = false;
      return (last = reading);
    },
  };
}
