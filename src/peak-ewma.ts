/**
 * Peak-sensitive exponentially weighted moving average of latency (Finagle's peak EWMA): a slower sample
 * is taken at once, faster ones decay the value with time constant `decayMs`. A client that turns slow is
 * penalised immediately and forgiven gradually.
 */
export class PeakEwma {
  readonly #decayMs: number;
  #value = 0;
  #stamp = Number.NaN;

  constructor(decayMs = 10_000) {
    this.#decayMs = decayMs;
  }

  /** Estimate at the last sample in milliseconds; 0 before the first sample. */
  get value(): number {
    return this.#value;
  }

  /** Whether any sample was taken. */
  get isMeasured(): boolean {
    return !Number.isNaN(this.#stamp);
  }

  /**
   * The estimate as of `now`, decayed for the time since the last sample (as Finagle reads it): a client
   * that was slow once and then got no traffic becomes cheap again, gets a call, and is measured anew.
   */
  valueAt(now: number): number {
    if (Number.isNaN(this.#stamp)) return 0;
    return this.#value * Math.exp(-Math.max(0, now - this.#stamp) / this.#decayMs);
  }

  observe(sampleMs: number, now: number): void {
    if (Number.isNaN(this.#stamp) || sampleMs > this.#value) {
      this.#value = sampleMs;
    } else {
      const weight = Math.exp(-Math.max(0, now - this.#stamp) / this.#decayMs);
      this.#value = this.#value * weight + sampleMs * (1 - weight);
    }
    this.#stamp = now;
  }
}
