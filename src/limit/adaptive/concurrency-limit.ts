import { InvalidOptionError } from '../../errors.js';
import { unreadableOptions } from '../../validate.js';
import { AimdLimit, type AimdLimitOptions } from './aimd.js';
import { Gradient2Limit, type Gradient2LimitOptions } from './gradient2.js';

/** One finished attempt, as the pool reports it to a client's adaptive limit. */
export interface ConcurrencySample {
  /** How long the attempt took, in ms. A value that is no measurement (NaN, negative, Infinity) is ignored. */
  readonly rttMs: number;
  /** Calls in flight on that client as the attempt ends, itself included (the pool keeps no count of when it started). */
  readonly inFlight: number;
  /** The client failed it (5xx, timeout, 429): a drop, in Netflix's terms. */
  readonly didDrop: boolean;
  /** The pool's clock when the attempt ended, in ms. A reading that steps back is taken as the last one. */
  readonly now: number;
}

/**
 * A client's concurrency limit, learned from its latency and failures: the pool admits a call to the client
 * while its calls in flight are below `limit`, and reports each finished attempt with `onSample`. One
 * controller per client. `onSample` never throws, whatever the sample holds.
 */
export interface ConcurrencyLimit {
  /** The current limit: an integer in [min, max]. */
  readonly limit: number;
  /** The lower bound of `limit`. */
  readonly min: number;
  /** The upper bound of `limit`. */
  readonly max: number;
  onSample(sample: ConcurrencySample): void;
}

/**
 * The `maxInFlight` option of `add()` when it is adaptive: `{ adaptive: 'aimd' }` or
 * `{ adaptive: 'gradient2' }` with that algorithm's options. See docs/adaptive-concurrency.md.
 */
export type AdaptiveLimitOptions = AimdLimitOptions | Gradient2LimitOptions;

/** The algorithms an adaptive limit can use. */
export const ADAPTIVE_ALGORITHMS = Object.freeze(['aimd', 'gradient2'] as const);

/**
 * Validate the adaptive-limit options `value` and make a fresh controller from them (call once per client:
 * a controller holds that client's state).
 * @param prefix The option's path in error messages, e.g. `maxInFlight`.
 * @throws InvalidOptionError naming `${prefix}` or `${prefix}.field`: not an options object, an unknown
 * `adaptive`, an unknown key, a bound that is not an integer from 1 to 2^31-1, min > max, initial outside
 * [min, max], or a bad algorithm option (NaN, negative, out of range).
 */
export function adaptiveLimit(prefix: string, value: unknown): ConcurrencyLimit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(prefix, `an options object with adaptive: ${ADAPTIVE_ALGORITHMS.map((a) => `'${a}'`).join(' or ')}`, value);
  }
  let adaptive: unknown;
  try {
    adaptive = (value as { adaptive?: unknown }).adaptive;
  } catch (error) {
    throw unreadableOptions(prefix, value, error);
  }
  switch (adaptive) {
    case 'aimd':
      return new AimdLimit(value, prefix);
    case 'gradient2':
      return new Gradient2Limit(value, prefix);
    default:
      throw new InvalidOptionError(`${prefix}.adaptive`, ADAPTIVE_ALGORITHMS.map((a) => `'${a}'`).join(' or '), adaptive);
  }
}

/**
 * Whether `value` asks for an adaptive limit: an object with an `adaptive` key (its options are checked
 * by {@link adaptiveLimit}). A number, or undefined, is a static `maxInFlight`. Never throws.
 */
export function isAdaptiveLimitOptions(value: unknown): value is AdaptiveLimitOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  try {
    return 'adaptive' in value;
  } catch {
    // A Proxy that throws on every trap is no options object of ours.
    return false;
  }
}
