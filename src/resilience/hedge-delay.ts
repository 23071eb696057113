import { LatencyHistogram } from '../util/latency-histogram.js';
import { integerAtLeast } from '../validate.js';
import { HEDGE_MIN_SAMPLES, type HedgePolicy } from './hedge-policy.js';

/**
 * The hedge delay of each method: fixed, or a quantile of the method's recent successful latencies.
 *
 * Holds one {@link LatencyHistogram} (about 1.4 KB) per method label, at most `maxMethods` of them: a
 * method name built from data (an ID in it) would otherwise grow memory without limit (200 000 labels
 * held some 300 MB). Past the cap, every new label shares one overflow histogram, so those methods
 * hedge on their pooled latency, as the Prometheus adapter's `maxMethods` records them as `other`.
 *
 * @example
 * const delays = new HedgeDelays();
 * delays.record('getUser', 12);
 * setTimeout(startHedge, delays.delay(policy, 'getUser'));
 */
export class HedgeDelays {
  readonly #histograms = new Map<string, LatencyHistogram>();
  readonly #maxMethods: number;
  #overflow: LatencyHistogram | undefined;
  /**
   * Whether calls are recorded: set once a quantile hedge delay is in use (a fixed delay needs no
   * latency), so a pool timed for another reason (metrics, a latency-aware balancer) records nothing.
   */
  isRecording = false;

  /** @param maxMethods methods with a histogram of their own; an integer >= 0. @default 1_000 */
  constructor(maxMethods = 1_000) {
    this.#maxMethods = integerAtLeast('maxMethods', maxMethods, 0);
  }

  /** Histograms held, the overflow one included: at most `maxMethods + 1`. */
  get size(): number {
    return this.#histograms.size + (this.#overflow === undefined ? 0 : 1);
  }

  /**
   * Milliseconds to wait before hedging a call of `method`: `policy.fixed` when it is a number; else the
   * method's `policy.quantile` latency clamped to [`min`, `max`], or `max` while the method has fewer than
   * {@link HEDGE_MIN_SAMPLES} samples.
   */
  delay(policy: HedgePolicy, method: string): number {
    if (!Number.isNaN(policy.fixed)) return policy.fixed;
    const histogram = this.#find(method);
    if (histogram === undefined || histogram.count < HEDGE_MIN_SAMPLES) return policy.max;
    return Math.min(policy.max, Math.max(policy.min, histogram.quantile(policy.quantile)));
  }

  /** Count a successful call of `method` that took `durationMs`; a NaN or negative duration is ignored. */
  record(method: string, durationMs: number): void {
    if (!(durationMs >= 0)) return;
    let histogram = this.#find(method);
    if (histogram === undefined) this.#histograms.set(method, (histogram = new LatencyHistogram()));
    histogram.record(durationMs);
  }

  /** The histogram `method` records into, or undefined when it is under the cap but has none yet. */
  #find(method: string): LatencyHistogram | undefined {
    const histogram = this.#histograms.get(method);
    if (histogram !== undefined || this.#histograms.size < this.#maxMethods) return histogram;
    return (this.#overflow ??= new LatencyHistogram());
  }
}
