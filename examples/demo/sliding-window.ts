// The dashboard's own numbers: a sliding window of the last few seconds of outcomes, in buckets, from
// which it reads requests per second, the error rate and latency percentiles. (Prometheus keeps the
// cumulative counters; a terminal wants "now".)

/** What a window says about the last `windowMs`. */
export interface WindowStats {
  /** Outcomes per second. */
  readonly perSecond: number;
  /** Errors / (successes + errors); NaN with neither. */
  readonly errorRate: number;
  /** Latency percentiles of successes in ms; NaN with none. */
  readonly p50: number;
  readonly p99: number;
}

interface Bucket {
  /** Index of the time slice this bucket holds (time / bucket width); -1 when unused. */
  slice: number;
  successes: number;
  errors: number;
  cancelled: number;
  latencies: number[];
}

/** Outcomes of the last `windowMs` ms, in `buckets` slices; the oldest slice is dropped as time moves on. */
export class SlidingWindow {
  readonly #bucketMs: number;
  readonly #buckets: Bucket[];
  readonly #createdAt: number;
  readonly #now: () => number;

  constructor(windowMs = 5_000, buckets = 10, now: () => number = () => performance.now()) {
    this.#bucketMs = windowMs / buckets;
    this.#buckets = Array.from({ length: buckets }, () => ({ slice: -1, successes: 0, errors: 0, cancelled: 0, latencies: [] }));
    this.#now = now;
    this.#createdAt = now();
  }

  /** Record a success and its latency. */
  success(latencyMs: number): void {
    const bucket = this.#current();
    bucket.successes++;
    bucket.latencies.push(latencyMs);
  }

  error(): void {
    this.#current().errors++;
  }

  /** An outcome that is neither (the caller aborted, or a hedge won elsewhere): counted in the rate only. */
  cancelled(): void {
    this.#current().cancelled++;
  }

  stats(): WindowStats {
    const now = this.#now();
    const oldest = Math.floor(now / this.#bucketMs) - this.#buckets.length + 1;
    let successes = 0;
    let errors = 0;
    let cancelled = 0;
    const latencies: number[] = [];
    for (const bucket of this.#buckets) {
      if (bucket.slice < oldest) continue;
      successes += bucket.successes;
      errors += bucket.errors;
      cancelled += bucket.cancelled;
      for (const latency of bucket.latencies) latencies.push(latency);
    }
    latencies.sort((a, b) => a - b);
    // Before the window has filled, divide by the time it has existed, not by its full width.
    const coveredMs = Math.min(now - this.#createdAt, this.#buckets.length * this.#bucketMs);
    return {
      perSecond: coveredMs <= 0 ? 0 : ((successes + errors + cancelled) * 1_000) / coveredMs,
      errorRate: successes + errors === 0 ? Number.NaN : errors / (successes + errors),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
    };
  }

  #current(): Bucket {
    const slice = Math.floor(this.#now() / this.#bucketMs);
    const bucket = this.#buckets[slice % this.#buckets.length]!;
    if (bucket.slice !== slice) {
      bucket.slice = slice;
      bucket.successes = 0;
      bucket.errors = 0;
      bucket.cancelled = 0;
      bucket.latencies.length = 0;
    }
    return bucket;
  }
}

/** Nearest-rank percentile of sorted values; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
