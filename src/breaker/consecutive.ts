import { givenOr, integerAtLeast, optionsObject } from '../validate.js';
import { systemClock, type Clock } from '../clock.js';
import { Circuit } from './circuit.js';
import { Cooldown, type CooldownOptions } from './cooldown.js';
import type { TripPolicy } from './trip-policy.js';

/** Options of the {@link ConsecutiveBreaker}, the original library's breaker and the default. */
export interface ConsecutiveBreakerOptions extends CooldownOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default 5
   */
  readonly maxFailures?: number;
  /**
   * Each consecutive reopening multiplies the cooldown by this factor (1 keeps it fixed).
   * @default 1
   */
  readonly cooldownMultiplier?: number;
}

/** Opens after `maxFailures` failures in a row: a success in between starts the count again. Reads no clock. */
export class ConsecutiveFailuresPolicy implements TripPolicy {
  readonly usesDuration = false;
  readonly #maxFailures: number;
  #failures = 0;

  constructor(maxFailures: number) {
    this.#maxFailures = maxFailures;
  }

  onSuccess(): boolean {
    this.#failures = 0;
    return false;
  }

  onFailure(): boolean {
    return ++this.#failures >= this.#maxFailures;
  }

  isGoodProbe(): boolean {
    return true;
  }

  reset(): void {
    this.#failures = 0;
  }
}

/**
 * Opens after `maxFailures` consecutive failures and stays open for `cooldown`; then a half-open period
 * admits at most `halfOpenProbes` trial calls: when all succeed it closes, the first that fails reopens it
 * (with a cooldown grown by `cooldownMultiplier`, capped at `maxCooldown`). Outcomes of calls admitted
 * before the circuit opened do not decide a half-open circuit: only probes do. The lifecycle is the
 * {@link Circuit}'s; this kind only counts, with a {@link ConsecutiveFailuresPolicy}.
 *
 * @example
 * ```ts
 * const pool = new ClientPool<Api>({ breaker: { maxFailures: 3, cooldown: 5_000 } });
 * ```
 */
export class ConsecutiveBreaker extends Circuit {
  constructor(options: ConsecutiveBreakerOptions = {}, clock: Clock = systemClock, prefix = 'breaker') {
    optionsObject(prefix, options);
    super(new ConsecutiveFailuresPolicy(integerAtLeast(`${prefix}.maxFailures`, givenOr(options.maxFailures, 5), 1)), new Cooldown(options, prefix, 1), clock);
  }
}
