import { InvalidOptionError } from '../errors.js';
import { between, duration, givenOr, integerAtLeast, keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';

/** Hedging: when the first attempt is slow, start the same call on another client; the first success wins. */
export interface HedgeOptions {
  /**
   * When to hedge: a fixed delay in ms, or a live latency quantile of the method, e.g.
   * `{ quantile: 0.95 }`, bounded by `min` (default 0) and `max` (default 1 000; used as the delay until
   * enough samples exist). Every duration is at most 2^31-1 ms, the longest Node timer.
   */
  readonly delay: number | { readonly quantile: number; readonly min?: number; readonly max?: number };
  /** Extra attempts at most. @default 1 */
  readonly maxHedges?: number;
}

/** A validated hedge policy. */
export interface HedgePolicy {
  readonly maxHedges: number;
  /** Fixed delay, or NaN when a quantile decides. */
  readonly fixed: number;
  readonly quantile: number;
  readonly min: number;
  readonly max: number;
}

/** Validate hedge options (`false` turns hedging off). */
export function hedgePolicy(option: HedgeOptions | false | undefined, prefix = 'hedge'): HedgePolicy | undefined {
  if (option === undefined || option === false) return undefined;
  optionsObject(prefix, option);
  try {
    return validHedge(option, prefix);
  } catch (error) {
    // A getter or a Proxy trap that throws: a typed error, with what it threw as the cause.
    throw unreadableOptions(prefix, option, error);
  }
}

const HEDGE_KEYS = keySet(['delay', 'maxHedges']);
const DELAY_KEYS = keySet(['quantile', 'min', 'max']);

function validHedge(option: HedgeOptions, prefix: string): HedgePolicy {
  knownKeys(prefix, option, HEDGE_KEYS);
  const maxHedges = integerAtLeast(`${prefix}.maxHedges`, givenOr<unknown>(option.maxHedges, 1), 1);
  const delay: unknown = option.delay;
  if (typeof delay === 'number') {
    return { maxHedges, fixed: duration(`${prefix}.delay`, delay), quantile: Number.NaN, min: 0, max: 0 };
  }
  if (typeof delay !== 'object' || delay === null) throw new InvalidOptionError(`${prefix}.delay`, 'a number of ms or { quantile }', delay);
  knownKeys(`${prefix}.delay`, delay, DELAY_KEYS);
  const spec = delay as { quantile?: unknown; min?: unknown; max?: unknown };
  const quantile = between(`${prefix}.delay.quantile`, spec.quantile, 0, 1);
  const min = duration(`${prefix}.delay.min`, givenOr(spec.min, 0));
  const max = duration(`${prefix}.delay.max`, givenOr(spec.max, 1_000));
  if (max < min) throw new InvalidOptionError(`${prefix}.delay.max`, `>= delay.min (${min})`, max);
  return { maxHedges, fixed: Number.NaN, quantile, min, max };
}

/** Samples a quantile needs before it is trusted over `max`. */
export const HEDGE_MIN_SAMPLES = 20;
