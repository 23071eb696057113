import { InvalidOptionError } from '../errors.js';

/**
 * prom-client's default histogram buckets in seconds, the same as Go's `prometheus.DefBuckets`: the
 * original middleware used them, so existing dashboards' `le` values keep working.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/**
 * The counts of one histogram series in plain numbers, so that observing costs a few comparisons and
 * additions; they become prom-client's `_bucket`, `_sum` and `_count` lines only at scrape time.
 */
export class Buckets {
  /** Upper bounds in increasing order, shared by every series of a family. */
  readonly bounds: readonly number[];
  /**
   * Per-bucket counts, not cumulative (as prom-client keeps them): `counts[i]` counts values in
   * `(bounds[i-1], bounds[i]]`, and the extra last slot those above every bound (only in `+Inf`).
   * Float64 rather than Uint32 so that a busy series does not wrap after 2^32 observations.
   */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Count one value; the same bucket rule as prom-client (`value <= bound`), the same summing order. */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // Most calls fall in the first buckets: a linear scan beats a binary search for 11 bounds.
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** Check a `buckets` option: a non-empty array of finite numbers in strictly increasing order. */
export function bucketBounds(option: string, value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidOptionError(option, 'a non-empty array of finite numbers in increasing order', value);
  const bounds: number[] = [];
  for (const bound of value as unknown[]) {
    // +Inf is implicit in the exposition format; a finite bound keeps `le` values unambiguous.
    if (typeof bound !== 'number' || !Number.isFinite(bound) || (bounds.length > 0 && bound <= bounds[bounds.length - 1]!)) {
      throw new InvalidOptionError(option, 'a non-empty array of finite numbers in increasing order', value);
    }
    bounds.push(bound);
  }
  return Object.freeze(bounds);
}
