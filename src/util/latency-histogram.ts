/**
 * A log-scale latency histogram that forgets: buckets grow by 10 % from 0.1 ms to about 10 minutes, and
 * every `halfLife` samples all counts halve, so a quantile follows the recent past. O(1) to record,
 * O(buckets) to query, which hedging does once per hedged call.
 */
export class LatencyHistogram {
  static readonly #base = 0.1;
  static readonly #growth = Math.log(1.1);
  readonly #counts = new Float64Array(165);
  readonly #halfLife: number;
  #total = 0;
  #sinceHalving = 0;

  constructor(halfLife = 1_000) {
    this.#halfLife = halfLife;
  }

  get count(): number {
    return this.#total;
  }

  record(ms: number): void {
    const index = ms <= LatencyHistogram.#base ? 0 : Math.min(this.#counts.length - 1, Math.ceil(Math.log(ms / LatencyHistogram.#base) / LatencyHistogram.#growth));
    this.#counts[index]! += 1;
    this.#total += 1;
    if (++this.#sinceHalving >= this.#halfLife) {
      this.#sinceHalving = 0;
      this.#total = 0;
      for (let i = 0; i < this.#counts.length; i++) this.#total += this.#counts[i]! /= 2;
    }
  }

  /** The latency at quantile `q` (0..1): the upper bound of the bucket holding it; NaN when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    let remaining = q * this.#total;
    for (let i = 0; i < this.#counts.length; i++) {
      remaining -= this.#counts[i]!;
      if (remaining <= 0) return LatencyHistogram.#base * Math.exp(i * LatencyHistogram.#growth);
    }
    return LatencyHistogram.#base * Math.exp((this.#counts.length - 1) * LatencyHistogram.#growth);
  }
}
