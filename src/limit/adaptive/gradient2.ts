import { InvalidOptionError } from '../../errors.js';
import { givenOr, duration, integerAtLeast, keySet, knownKeys, unreadableOptions } from '../../validate.js';
import { clampLimit, limitBounds, MAX_LIMIT, SteadyTime, validInFlight, validRtt, type LimitBounds } from './bounds.js';
import type { ConcurrencyLimit, ConcurrencySample } from './concurrency-limit.js';

/** Options of a {@link Gradient2Limit}: `add(client, { maxInFlight: { adaptive: 'gradient2', ... } })`. */
export interface Gradient2LimitOptions {
  readonly adaptive: 'gradient2';
  /** Lowest limit: an integer from 1 to 2^31-1. @default 1 */
  readonly min?: number;
  /** Highest limit: an integer from `min` to 2^31-1. @default 1000 */
  readonly max?: number;
  /** Limit to start from: an integer from `min` to `max`. @default 20, brought into [min, max] */
  readonly initial?: number;
  /**
   * Share of the new estimate taken at each window when the limit shrinks: a number in (0, 1]; 1 takes
   * it whole. Growth is not smoothed (see {@link Gradient2Limit}).
   * @default 0.2
   */
  readonly smoothing?: number;
  /**
   * How much slower than its long-term average a window may be before the limit shrinks: a finite
   * number >= 1 (1.5: up to 1.5x the long-term round trip is no queueing).
   * @default 1.5
   */
  readonly rttTolerance?: number;
  /** Windows the long-term round trip is averaged over (an exponential average): an integer >= 1. @default 600 */
  readonly longWindow?: number;
  /**
   * Calls the limit may grow by per window while latency holds, a finite number >= 0, or a function of
   * the current limit returning one (a function that throws or returns anything else counts as the
   * default).
   * @default 2
   */
  readonly queueSize?: number | ((limit: number) => number);
  /** Shortest window, in ms: a duration >= 0 and <= 2^31-1. @default 1000 */
  readonly windowMs?: number;
  /** Fewest attempts in a window: an integer from 1 to 2^31-1. @default 10 */
  readonly windowSamples?: number;
}

const GRADIENT2_KEYS = keySet(['adaptive', 'min', 'max', 'initial', 'smoothing', 'rttTolerance', 'longWindow', 'queueSize', 'windowMs', 'windowSamples']);

/** @see Gradient2LimitOptions.smoothing */
const DEFAULT_SMOOTHING = 0.2;
/** @see Gradient2LimitOptions.rttTolerance */
const DEFAULT_RTT_TOLERANCE = 1.5;
/** @see Gradient2LimitOptions.longWindow */
const DEFAULT_LONG_WINDOW = 600;
/** @see Gradient2LimitOptions.queueSize */
const DEFAULT_QUEUE_SIZE = 2;
/** @see Gradient2LimitOptions.windowMs */
const DEFAULT_WINDOW_MS = 1_000;
/** @see Gradient2LimitOptions.windowSamples */
const DEFAULT_WINDOW_SAMPLES = 10;
/** Windows whose least average round trip seeds the long-term one before it turns exponential (Netflix: 10, their mean). */
const WARMUP_WINDOWS = 10;
/** The long-term round trip this far above a window's is stale (load has passed): Netflix's drift check. */
const DRIFT_RATIO = 2;
/** What the stale long-term round trip is multiplied by at each such window (Netflix: 0.95). */
const DRIFT_DECAY = 0.95;
/**
 * How much slower a congested window moves the long-term round trip than one without queueing: an overload
 * of minutes must not pass for the new normal, a latency change of hours is still learnt.
 */
const CONGESTED_SLOWDOWN = 10;
/** The gradient never cuts the limit by more than half in one window: one slow window is an outlier. */
const MIN_GRADIENT = 0.5;

/**
 * The gradient controller of Netflix concurrency-limits (`Gradient2Limit`, fed by its `WindowedLimit`),
 * after TCP Vegas (Brakmo and Peterson, SIGCOMM 1994): it compares the recent round trip with a long-term
 * one, and shrinks the limit when calls queue.
 *
 * Attempts are gathered in windows of at least `windowSamples` attempts and `windowMs` ms (Netflix ends a
 * window by time and discards one with too few samples; this one waits for them, so a slow client still
 * gets windows). At the end of a window:
 * - `shortRtt` is the window's average round trip of attempts that did not drop; `longRtt` an exponential
 *   average of those over `longWindow` windows. When `longRtt` is more than twice `shortRtt`, load has
 *   passed and `longRtt` is stale: it is multiplied by 0.95 each window until it is not, as Netflix does,
 *   rather than waiting out the long average.
 * - `gradient = clamp(rttTolerance * longRtt / shortRtt, 0.5, 1)`: 1 while the window is no slower than
 *   `rttTolerance` times the long-term round trip, down to 0.5.
 * - `newLimit = limit * gradient + queueSize`; a shrink is smoothed,
 *   `limit * (1 - smoothing) + newLimit * smoothing`, a growth taken whole.
 * - While the client is app-limited (the window's most calls in flight < limit / 2) the limit does not grow.
 * - The result is kept in [min, max] and reported rounded down.
 *
 * Departures from Netflix, each for a reason (the figures are from test/limit/adaptive/closed-loop.test.ts,
 * a backend of 20 ms up to 8 in flight and 40 ms above, offered 4x its capacity):
 * - `longRtt` is seeded by the least of the first 10 windows, not their mean, and a congested window
 *   (slower than `rttTolerance * longRtt`) moves it at a tenth of the pace: otherwise the long-term
 *   average soon learns the overloaded latency as normal, and the limit leaves the knee within a minute
 *   of overload. This way it holds [6, 12] for about 6 minutes of unbroken overload. The cost: a latency
 *   that rises for good is learnt over about 10 times `longWindow` windows, the limit held near
 *   `4 * queueSize` meanwhile.
 * - Drops count (Netflix's Gradient2 ignores them): a window whose share `d` of attempts dropped takes
 *   `gradient = min(gradient, 1 - d)` and grows by `queueSize * (1 - d)`, so a client that fails every
 *   call shrinks by half (smoothed: by 10 %) each window down to `min`, and a steady share `d` of drops
 *   holds the limit near `queueSize * (1 - d) / d` (2 % drops: about 100). A dropped attempt's round
 *   trip is left out of both averages: a failure's speed says nothing of service time. So is a window of
 *   instant answers (0 ms).
 * - Growth is not smoothed (Netflix smooths both ways, yet documents smoothing as limiting how fast the
 *   limit "can shrink"): after a failure burst the limit is back from `min` to the knee within 3 windows
 *   rather than about 10.
 * - `queueSize` defaults to 2, not 4: with `rttTolerance` 1.5 a backend whose latency doubles past its
 *   knee `k` holds the limit near `max(k, 4 * queueSize)`, so 4 would settle at 16 whatever the knee.
 *
 * The long-term round trip is learnt from the first windows: a client overloaded from its first call
 * takes its overloaded latency as normal. Start `initial` below the expected knee in that case.
 */
export class Gradient2Limit implements ConcurrencyLimit {
  readonly min: number;
  readonly max: number;
  readonly smoothing: number;
  readonly rttTolerance: number;
  readonly longWindow: number;
  /** In ms. */
  readonly windowMs: number;
  readonly windowSamples: number;
  readonly #bounds: LimitBounds;
  readonly #queueSize: number | ((limit: number) => number);
  readonly #longFactor: number;
  #estimate: number;
  readonly #time = new SteadyTime();
  // The window being gathered.
  #windowStart = Number.NaN;
  #samples = 0;
  #drops = 0;
  #rttSum = 0;
  #rtts = 0;
  #maxInFlight = 0;
  // The long-term round trip, in ms, and how many windows fed it.
  #longRtt = 0;
  #windows = 0;

  /**
   * @param prefix The option's path in error messages.
   * @throws InvalidOptionError naming `${prefix}.field` for a bad or unknown option (see {@link Gradient2LimitOptions}).
   */
  constructor(options: Omit<Gradient2LimitOptions, 'adaptive'> & { readonly adaptive?: 'gradient2' } = {}, prefix = 'maxInFlight') {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError(prefix, 'an options object', options);
    knownKeys(prefix, options, GRADIENT2_KEYS);
    try {
      this.#bounds = limitBounds(prefix, options);
      const smoothing = givenOr(options.smoothing, DEFAULT_SMOOTHING);
      if (typeof smoothing !== 'number' || !(smoothing > 0 && smoothing <= 1)) throw new InvalidOptionError(`${prefix}.smoothing`, 'a number > 0 and <= 1', smoothing);
      this.smoothing = smoothing;
      const rttTolerance = givenOr(options.rttTolerance, DEFAULT_RTT_TOLERANCE);
      if (typeof rttTolerance !== 'number' || !Number.isFinite(rttTolerance) || rttTolerance < 1) throw new InvalidOptionError(`${prefix}.rttTolerance`, 'a finite number >= 1', rttTolerance);
      this.rttTolerance = rttTolerance;
      this.longWindow = windowCount(`${prefix}.longWindow`, givenOr(options.longWindow, DEFAULT_LONG_WINDOW));
      const queueSize = givenOr(options.queueSize, DEFAULT_QUEUE_SIZE);
      if (typeof queueSize !== 'function' && (typeof queueSize !== 'number' || !Number.isFinite(queueSize) || queueSize < 0)) {
        throw new InvalidOptionError(`${prefix}.queueSize`, 'a finite number >= 0 or a function of the limit', queueSize);
      }
      this.#queueSize = queueSize;
      this.windowMs = duration(`${prefix}.windowMs`, givenOr(options.windowMs, DEFAULT_WINDOW_MS));
      this.windowSamples = windowCount(`${prefix}.windowSamples`, givenOr(options.windowSamples, DEFAULT_WINDOW_SAMPLES));
    } catch (error) {
      throw unreadableOptions(prefix, options, error);
    }
    this.min = this.#bounds.min;
    this.max = this.#bounds.max;
    this.#estimate = this.#bounds.initial;
    this.#longFactor = 2 / (this.longWindow + 1);
  }

  get limit(): number {
    return clampLimit(this.#estimate, this.#bounds);
  }

  /** The long-term round trip in ms (0 before the first window ends): for metrics and tests. */
  get longRtt(): number {
    return this.#longRtt;
  }

  onSample(sample: ConcurrencySample): void {
    const now = this.#time.read(sample.now);
    if (Number.isNaN(this.#windowStart)) this.#windowStart = now;
    this.#samples++;
    const inFlight = validInFlight(sample.inFlight);
    if (inFlight > this.#maxInFlight) this.#maxInFlight = inFlight;
    if (sample.didDrop) {
      this.#drops++;
    } else {
      const rtt = validRtt(sample.rttMs);
      if (rtt !== undefined) {
        this.#rttSum += rtt;
        this.#rtts++;
      }
    }
    if (this.#samples >= this.windowSamples && now - this.#windowStart >= this.windowMs) this.#endWindow(now);
  }

  #endWindow(now: number): void {
    const limit = this.#estimate;
    const success = 1 - this.#drops / this.#samples;
    let gradient = success;
    if (this.#rtts > 0) {
      const shortRtt = this.#rttSum / this.#rtts;
      // A window of instant answers (a cache, a clock too coarse) shows no queueing, and is no latency to learn.
      if (shortRtt > 0) {
        this.#addLongRtt(shortRtt, shortRtt > this.rttTolerance * this.#longRtt);
        if (this.#longRtt > DRIFT_RATIO * shortRtt) this.#longRtt *= DRIFT_DECAY;
        gradient = Math.min(gradient, (this.rttTolerance * this.#longRtt) / shortRtt);
      }
    }
    gradient = Math.max(MIN_GRADIENT, Math.min(1, gradient));
    let next = limit * gradient + this.#headroom() * success;
    if (this.#maxInFlight < limit / 2) next = Math.min(next, limit);
    if (next < limit) next = limit * (1 - this.smoothing) + next * this.smoothing;
    this.#estimate = Math.max(this.min, Math.min(this.max, next));
    this.#windowStart = now;
    this.#samples = 0;
    this.#drops = 0;
    this.#rttSum = 0;
    this.#rtts = 0;
    this.#maxInFlight = 0;
  }

  /** Feed the long-term round trip; a congested window (slower than the tolerance allows) at a tenth of the pace. */
  #addLongRtt(rtt: number, isCongested: boolean): void {
    if (this.#windows < WARMUP_WINDOWS) {
      // The least window seeds it, not the mean: a limit that passes the knee during these first windows
      // must not teach the controller that queueing is normal.
      this.#longRtt = this.#windows === 0 ? rtt : Math.min(this.#longRtt, rtt);
      this.#windows++;
    } else {
      this.#longRtt += (rtt - this.#longRtt) * (isCongested ? this.#longFactor / CONGESTED_SLOWDOWN : this.#longFactor);
    }
  }

  /** The growth allowed this window: `queueSize`, or the user's function of the limit, guarded. */
  #headroom(): number {
    const queueSize = this.#queueSize;
    if (typeof queueSize === 'number') return queueSize;
    try {
      const value = queueSize(this.limit);
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : DEFAULT_QUEUE_SIZE;
    } catch {
      return DEFAULT_QUEUE_SIZE;
    }
  }
}

function windowCount(option: string, value: unknown): number {
  integerAtLeast(option, value, 1);
  if ((value as number) > MAX_LIMIT) throw new InvalidOptionError(option, `an integer from 1 to ${MAX_LIMIT}`, value);
  return value as number;
}
