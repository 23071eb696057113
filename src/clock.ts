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
 * A pool's default clock: `performance.now()` of the `performance` object there is when the pool is made
 * (fake timers that replace it must be installed first, or passed as the `clock` option). On Node the
 * global `performance` is a lazy accessor whose getter runs on every read: read once here, not on each of
 * the several clock readings of a timed or observed call.
 */
export function boundSystemClock(): Clock {
  const performance = globalThis.performance;
  return { now: () => performance.now() };
}

/**
 * A clock of the user's, guarded: a reading that throws or is not a finite number (NaN, Infinity) would
 * leave a call's bookkeeping half done or put every deadline out of reach, so it is replaced by the last
 * good reading (time stands still; the pool's timers still fire) and reported through `warn`, once per
 * run of bad readings. Without one, the pool's default clock (`boundSystemClock()`).
 */
export function guardedClock(clock: Clock | undefined, warn: (what: string, error: unknown) => void): Clock {
  if (clock === undefined) return boundSystemClock();
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
