import { InvalidOptionError } from '../errors.js';
import { givenOr, integerAtLeast, keySet, knownKeys, optionsObject, positiveDuration } from '../validate.js';
import { systemClock, type Clock } from '../clock.js';
import type { BreakerFactory } from './breaker.js';
import { Circuit } from './circuit.js';
import { Cooldown, type CooldownOptions } from './cooldown.js';
import { CountWindow, TimeWindow, type RollingWindow } from './rolling-window.js';
import type { TripPolicy } from './trip-policy.js';

/** Options of the {@link FailureRateBreaker}. */
export interface FailureRateBreakerOptions extends CooldownOptions {
  /**
   * Failure ratio of the window that opens the circuit: a number > 0 and <= 1. The circuit opens when
   * `failures / calls >= threshold`.
   * @default 0.5
   */
  readonly threshold?: number;
  /**
   * The calls the ratios are taken over: the last `size` calls, or the calls of the last `ms`
   * milliseconds (at most 2^31-1) kept in `buckets` buckets (default 10). A time window forgets an outcome
   * when the window has moved past its bucket: after more than `ms - ms / buckets` and at most `ms`
   * milliseconds.
   * @default { kind: 'time', ms: 10_000, buckets: 10 }
   */
  readonly window?:
    | { readonly kind: 'count'; readonly size: number }
    | { readonly kind: 'time'; readonly ms: number; readonly buckets?: number };
  /**
   * Calls the window must hold before the circuit may open, so that two failures out of three calls
   * after a quiet night do not trip it. At most the `size` of a count window.
   * @default 10, or the size of a smaller count window
   */
  readonly minimumThroughput?: number;
  /**
   * Calls taking longer than this many milliseconds (at most 2^31-1) are slow, whatever their outcome.
   * Setting it makes the pool time every call.
   * @default none: no call is slow
   */
  readonly slowCallDuration?: number;
  /**
   * Slow-call ratio of the window that opens the circuit, on its own: a number > 0 and <= 1. Needs
   * `slowCallDuration`.
   * @default 1 (every call in the window slow)
   */
  readonly slowCallThreshold?: number;
  /**
   * Trial calls a half-open period admits in all, and all must succeed (fast) to close the circuit.
   * @default 1
   */
  readonly halfOpenProbes?: number;
  /**
   * Each consecutive reopening multiplies the cooldown by this factor (1 keeps it fixed).
   * @default 2
   */
  readonly cooldownMultiplier?: number;
}

/**
 * Counts outcomes in a {@link RollingWindow} and opens when the window holds `minimumThroughput` calls and
 * its failure ratio reaches `threshold` or its slow-call ratio reaches `slowCallThreshold`, checked after
 * every outcome (a success too). A probe success slower than `slowCallDuration` is not a good probe.
 */
export class FailureRatePolicy implements TripPolicy {
  readonly usesDuration: boolean;
  readonly #window: RollingWindow;
  readonly #minimumThroughput: number;
  readonly #threshold: number;
  /** `Infinity` when slow calls are not counted, so that no duration (nor `NaN`) exceeds it. */
  readonly #slowCallDuration: number;
  readonly #slowCallThreshold: number;

  /** Validates the options of the rate (not the cooldown ones), naming them under `prefix`. */
  constructor(options: FailureRateBreakerOptions, clock: Clock, prefix: string) {
    this.#threshold = ratio(`${prefix}.threshold`, givenOr(options.threshold, 0.5));
    this.#window = rollingWindow(`${prefix}.window`, options.window === undefined ? { kind: 'time', ms: 10_000 } : options.window, clock);
    const capacity = this.#window instanceof CountWindow ? this.#window.size : Infinity;
    this.#minimumThroughput = integerAtLeast(`${prefix}.minimumThroughput`, givenOr(options.minimumThroughput, Math.min(10, capacity)), 1);
    if (this.#minimumThroughput > capacity) {
      throw new InvalidOptionError(`${prefix}.minimumThroughput`, `an integer from 1 to the window size (${capacity})`, this.#minimumThroughput);
    }
    if (options.slowCallDuration === undefined) {
      if (options.slowCallThreshold !== undefined) {
        throw new InvalidOptionError(`${prefix}.slowCallDuration`, 'set when slowCallThreshold is', undefined);
      }
      this.#slowCallDuration = Infinity;
    } else {
      this.#slowCallDuration = positiveDuration(`${prefix}.slowCallDuration`, options.slowCallDuration);
    }
    this.#slowCallThreshold = ratio(`${prefix}.slowCallThreshold`, givenOr(options.slowCallThreshold, 1));
    this.usesDuration = options.slowCallDuration !== undefined;
  }

  onSuccess(durationMs: number): boolean {
    return this.#record(false, durationMs > this.#slowCallDuration);
  }

  onFailure(durationMs: number): boolean {
    return this.#record(true, durationMs > this.#slowCallDuration);
  }

  isGoodProbe(durationMs: number): boolean {
    return !(durationMs > this.#slowCallDuration);
  }

  reset(): void {
    this.#window.clear();
  }

  #record(failed: boolean, slow: boolean): boolean {
    const window = this.#window;
    window.record(failed, slow);
    const total = window.total;
    // Ratios by division: `failures >= threshold * total` would miss 7 of 25 at 0.28 (0.28 * 25 > 7).
    return total >= this.#minimumThroughput && (window.failures / total >= this.#threshold || window.slow / total >= this.#slowCallThreshold);
  }
}

/**
 * Opens when the failure ratio of recent calls reaches `threshold` (or their slow-call ratio reaches
 * `slowCallThreshold`), once the window holds `minimumThroughput` calls. The ratios are checked after
 * every outcome recorded while closed. It suits a client that fails some of its calls, which the
 * consecutive breaker misses as long as a success comes between its failures.
 *
 * After `cooldown` it is half-open and admits `halfOpenProbes` trial calls: when all succeed without
 * being slow it closes with an empty window; the first that fails or is slow reopens it, for a cooldown
 * grown by `cooldownMultiplier` and capped at `maxCooldown`. Outcomes of calls admitted before the circuit
 * opened do not decide a half-open circuit: only probes do. The lifecycle is the {@link Circuit}'s; this
 * kind only counts, with a {@link FailureRatePolicy}.
 *
 * @example
 * ```ts
 * const pool = new ClientPool<Api>({
 *   breaker: failureRate({ threshold: 0.5, window: { kind: 'time', ms: 10_000 }, slowCallDuration: 2_000 }),
 * });
 * ```
 */
export class FailureRateBreaker extends Circuit {
  constructor(options: FailureRateBreakerOptions = {}, clock: Clock = systemClock, prefix = 'breaker') {
    optionsObject(prefix, options);
    knownKeys(prefix, options, FAILURE_RATE_KEYS);
    super(new FailureRatePolicy(options, clock, prefix), new Cooldown(options, prefix, 2), clock);
  }
}

/**
 * A breaker factory for `new ClientPool({ breaker })`: one {@link FailureRateBreaker} per client, on the
 * pool's clock. The options are validated here, at once.
 *
 * @example
 * ```ts
 * const pool = new ClientPool<Api>({ breaker: failureRate({ threshold: 0.5, window: { kind: 'time', ms: 10_000 } }) });
 * ```
 */
export function failureRate(options: FailureRateBreakerOptions = {}): BreakerFactory {
  new FailureRateBreaker(options, systemClock, 'breaker');
  return ({ clock }) => new FailureRateBreaker(options, clock, 'breaker');
}

const FAILURE_RATE_KEYS = keySet(['threshold', 'window', 'minimumThroughput', 'slowCallDuration', 'slowCallThreshold', 'cooldown', 'halfOpenProbes', 'cooldownMultiplier', 'maxCooldown']);
const COUNT_WINDOW_KEYS = keySet(['kind', 'size']);
const TIME_WINDOW_KEYS = keySet(['kind', 'ms', 'buckets']);

/** A number > 0 and <= 1. */
function ratio(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new InvalidOptionError(option, 'a number > 0 and <= 1', value);
  return value;
}

function rollingWindow(option: string, value: unknown, clock: Clock): RollingWindow {
  optionsObject(option, value);
  const window = value as { readonly kind?: unknown; readonly size?: unknown; readonly ms?: unknown; readonly buckets?: unknown };
  switch (window.kind) {
    case 'count':
      knownKeys(option, window, COUNT_WINDOW_KEYS);
      return new CountWindow(integerBetween(`${option}.size`, window.size, 1, MAX_WINDOW_SIZE));
    case 'time':
      knownKeys(option, window, TIME_WINDOW_KEYS);
      return new TimeWindow(positiveDuration(`${option}.ms`, window.ms), integerBetween(`${option}.buckets`, givenOr(window.buckets, 10), 1, MAX_WINDOW_SIZE), clock);
    default:
      throw new InvalidOptionError(`${option}.kind`, 'one of "count", "time"', window.kind);
  }
}

/** The most outcomes (count window) or buckets (time window) a window keeps: each costs memory per client. */
const MAX_WINDOW_SIZE = 100_000;

/** An integer from `min` to `max`. */
function integerBetween(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}
