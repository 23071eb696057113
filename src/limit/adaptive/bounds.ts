import { InvalidOptionError } from '../../errors.js';
import { givenOr, integerAtLeast } from '../../validate.js';

/** The largest `min`, `max` and `initial`: 2^31-1, as for every count option of the pool. */
export const MAX_LIMIT = 2 ** 31 - 1;

/** Default lower bound of an adaptive limit: one call may always be in flight. */
export const DEFAULT_MIN = 1;
/** Default upper bound of an adaptive limit. */
export const DEFAULT_MAX = 1_000;
/** Default starting limit (Netflix concurrency-limits starts its limits at 20 too). */
export const DEFAULT_INITIAL = 20;

/** The bounds every adaptive limit takes, checked. */
export interface LimitBounds {
  readonly min: number;
  readonly max: number;
  readonly initial: number;
}

/** The options every adaptive limit shares. */
export interface BoundsOptions {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly initial?: number | undefined;
}

/**
 * Check `min`, `max` and `initial`: integers from 1 to 2^31-1 with min <= initial <= max. An absent
 * `initial` is 20 brought into [min, max], so `{ max: 8 }` alone is valid.
 * @throws InvalidOptionError naming `${prefix}.min`, `${prefix}.max` or `${prefix}.initial`.
 */
export function limitBounds(prefix: string, options: BoundsOptions): LimitBounds {
  const min = count(`${prefix}.min`, givenOr(options.min, DEFAULT_MIN), 1);
  const max = count(`${prefix}.max`, givenOr(options.max, Math.max(DEFAULT_MAX, min)), min);
  const initial = options.initial === undefined ? Math.min(max, Math.max(min, DEFAULT_INITIAL)) : count(`${prefix}.initial`, options.initial, min);
  if (initial > max) throw new InvalidOptionError(`${prefix}.initial`, `an integer from min (${min}) to max (${max})`, initial);
  return { min, max, initial };
}

function count(option: string, value: unknown, min: number): number {
  integerAtLeast(option, value, min);
  if ((value as number) > MAX_LIMIT) throw new InvalidOptionError(option, `an integer from ${min} to ${MAX_LIMIT}`, value);
  return value as number;
}

/** `value` brought into [min, max] and rounded down: what a controller reports as its limit. */
export function clampLimit(value: number, bounds: LimitBounds): number {
  // A NaN estimate can only come from a bug; the bound keeps the pool usable rather than stalled.
  if (Number.isNaN(value)) return bounds.min;
  return Math.min(bounds.max, Math.max(bounds.min, Math.floor(value)));
}

/** The longest round-trip time a controller takes in, in ms (about 24.8 days): sums of many stay finite. */
const MAX_RTT_MS = 2 ** 31 - 1;

/**
 * A sample's round-trip time in ms, or undefined when it is no measurement (NaN, negative, Infinity, not a
 * number): such a sample must not poison an average. A huge finite one is cut to 2^31-1 ms.
 */
export function validRtt(rttMs: unknown): number | undefined {
  return typeof rttMs === 'number' && Number.isFinite(rttMs) && rttMs >= 0 ? Math.min(rttMs, MAX_RTT_MS) : undefined;
}

/**
 * The samples' clock, made steady. A reading that is not a number within ±2^53 is taken as the last one;
 * a clock that steps back (a fake clock, a restored VM) stands still at the step and goes on from there,
 * as the token bucket does, so a window or a round trip is never measured across the step.
 */
export class SteadyTime {
  #last = Number.NEGATIVE_INFINITY;
  #skew = 0;

  /** `now` on the steady scale; before any finite reading, -Infinity. */
  read(now: unknown): number {
    // Past 2^53 ms a double cannot tell one ms from the next: such a reading is no clock.
    if (typeof now !== 'number' || !(Math.abs(now) <= Number.MAX_SAFE_INTEGER)) return this.#last;
    const t = now + this.#skew;
    if (t >= this.#last) return (this.#last = t);
    this.#skew += this.#last - t;
    return this.#last;
  }
}

/** A sample's in-flight count, as a finite number >= 0; an unusable one reads as 0 (the limit is not in use). */
export function validInFlight(inFlight: unknown): number {
  return typeof inFlight === 'number' && Number.isFinite(inFlight) && inFlight > 0 ? inFlight : 0;
}
