import { givenOr, duration, finiteAtLeast, integerAtLeast } from '../validate.js';

/** The open and half-open options every breaker kind shares. */
export interface CooldownOptions {
  /**
   * Milliseconds the circuit stays open before admitting trial calls, at most 2^31-1.
   * @default 10_000
   */
  readonly cooldown?: number;
  /**
   * Trial calls a half-open period admits in all; all must succeed to close the circuit.
   * @default 1
   */
  readonly halfOpenProbes?: number;
  /** Each consecutive reopening multiplies the cooldown by this factor (1 keeps it fixed). */
  readonly cooldownMultiplier?: number;
  /**
   * Upper bound of a grown cooldown in milliseconds, at most 2^31-1.
   * @default 300_000 (or `cooldown` if larger)
   */
  readonly maxCooldown?: number;
}

/** A breaker's validated cooldown policy: how long it stays open after its n-th consecutive trip. */
export class Cooldown {
  /** Probe permits of a half-open period. */
  readonly probes: number;
  readonly #base: number;
  readonly #multiplier: number;
  readonly #max: number;

  constructor(options: CooldownOptions, prefix: string, defaultMultiplier: number) {
    // Bounded like a timer delay: an open circuit's `until` is a deadline the pool may wait for.
    this.#base = duration(`${prefix}.cooldown`, givenOr(options.cooldown, 10_000));
    this.probes = integerAtLeast(`${prefix}.halfOpenProbes`, givenOr(options.halfOpenProbes, 1), 1);
    this.#multiplier = finiteAtLeast(`${prefix}.cooldownMultiplier`, givenOr(options.cooldownMultiplier, defaultMultiplier), 1);
    this.#max = duration(`${prefix}.maxCooldown`, givenOr(options.maxCooldown, Math.max(300_000, this.#base)));
  }

  /** Milliseconds open after the `trips`-th consecutive opening (1 for the first). */
  after(trips: number): number {
    // Guarded: with a base of 0, 0 x Infinity after many trips would be NaN.
    if (this.#multiplier === 1 || this.#base === 0) return Math.min(this.#base, this.#max);
    return Math.min(this.#base * this.#multiplier ** (trips - 1), this.#max);
  }
}
