import { InvalidOptionError } from '../../errors.js';
import { givenOr, keySet, knownKeys, positiveDuration, unreadableOptions } from '../../validate.js';
import { limitBounds, SteadyTime, validInFlight, validRtt, type LimitBounds } from './bounds.js';
import type { ConcurrencyLimit, ConcurrencySample } from './concurrency-limit.js';

/** Options of an {@link AimdLimit}: `add(client, { maxInFlight: { adaptive: 'aimd', ... } })`. */
export interface AimdLimitOptions {
  readonly adaptive: 'aimd';
  /** Lowest limit: an integer from 1 to 2^31-1. @default 1 */
  readonly min?: number;
  /** Highest limit: an integer from `min` to 2^31-1. @default 1000 */
  readonly max?: number;
  /** Limit to start from: an integer from `min` to `max`. @default 20, brought into [min, max] */
  readonly initial?: number;
  /** Factor the limit is multiplied by on a drop: a number from 0.5 to below 1. @default 0.9 */
  readonly backoff?: number;
  /**
   * An attempt slower than this, in ms, counts as a drop even when it succeeded: the only way AIMD sees
   * latency. A duration in ms > 0 and <= 2^31-1.
   * @default 5000
   */
  readonly timeout?: number;
}

const AIMD_KEYS = keySet(['adaptive', 'min', 'max', 'initial', 'backoff', 'timeout']);

/** @see AimdLimitOptions.backoff */
const DEFAULT_BACKOFF = 0.9;
/** @see AimdLimitOptions.timeout */
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Additive increase, multiplicative decrease: the loss-based controller of TCP congestion avoidance
 * (Jacobson, "Congestion Avoidance and Control", SIGCOMM 1988; TCP Reno, RFC 5681), as Netflix
 * concurrency-limits applies it to concurrency (`AIMDLimit`).
 *
 * - A drop (the client failed the attempt) or an attempt slower than `timeout` ms multiplies the limit by
 *   `backoff` (0.9), rounded down so that it takes off at least 1, down to `min`. Attempts that started before that decrease
 *   were sent under the old limit and do not decrease it again: one decrease per round trip, as TCP
 *   NewReno (RFC 6582) cuts once per window of loss, so a burst of failures in flight at once costs one
 *   step, not one per failure.
 * - A success while the limit is in use (the attempt started with at least `limit / 2` in flight) adds
 *   `1 / limit`: +1 per limit's worth of successes, that is +1 per round trip at full use, as TCP's
 *   `cwnd += 1/cwnd` per ack. Netflix adds 1 per success, which doubles the limit every round trip;
 *   this controller keeps TCP's pace so that it hovers just above a latency knee instead of leaping
 *   past it.
 * - An app-limited client (few calls in flight) keeps its limit: idle time is no evidence of capacity.
 *
 * The limit is an integer in [min, max] at all times.
 */
export class AimdLimit implements ConcurrencyLimit {
  readonly min: number;
  readonly max: number;
  readonly backoff: number;
  /** In ms. */
  readonly timeout: number;
  #limit: number;
  /** Successes at full use since the limit last moved: at `limit` of them it grows by 1 (counted, not summed as 1/limit, so no float drift). */
  #credits = 0;
  /** When the last decrease happened: attempts started before it do not decrease again. */
  #decreasedAt = Number.NEGATIVE_INFINITY;
  readonly #time = new SteadyTime();

  /**
   * @param prefix The option's path in error messages.
   * @throws InvalidOptionError naming `${prefix}.field` for a bad or unknown option (see {@link AimdLimitOptions}).
   */
  constructor(options: Omit<AimdLimitOptions, 'adaptive'> & { readonly adaptive?: 'aimd' } = {}, prefix = 'maxInFlight') {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError(prefix, 'an options object', options);
    knownKeys(prefix, options, AIMD_KEYS);
    let bounds: LimitBounds;
    try {
      bounds = limitBounds(prefix, options);
      const backoff = givenOr(options.backoff, DEFAULT_BACKOFF);
      if (typeof backoff !== 'number' || !(backoff >= 0.5 && backoff < 1)) throw new InvalidOptionError(`${prefix}.backoff`, 'a number from 0.5 to below 1', backoff);
      this.backoff = backoff;
      this.timeout = positiveDuration(`${prefix}.timeout`, givenOr(options.timeout, DEFAULT_TIMEOUT_MS));
    } catch (error) {
      throw unreadableOptions(prefix, options, error);
    }
    this.min = bounds.min;
    this.max = bounds.max;
    this.#limit = bounds.initial;
  }

  get limit(): number {
    return this.#limit;
  }

  onSample(sample: ConcurrencySample): void {
    const now = this.#time.read(sample.now);
    const rtt = validRtt(sample.rttMs);
    const limit = this.#limit;
    if (sample.didDrop || (rtt !== undefined && rtt > this.timeout)) {
      // An attempt of unknown length is taken as started now: its drop counts.
      if (now - (rtt ?? 0) < this.#decreasedAt) return;
      this.#decreasedAt = now;
      this.#credits = 0;
      // Rounded down, so that it always takes off at least 1 (limit * backoff < limit).
      this.#limit = Math.max(this.min, Math.floor(limit * this.backoff));
      return;
    }
    if (validInFlight(sample.inFlight) * 2 < limit || limit >= this.max) return;
    if (++this.#credits >= limit) {
      this.#credits = 0;
      this.#limit = limit + 1;
    }
  }
}
