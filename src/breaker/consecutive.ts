import { integerAtLeast, optionsObject } from '../validate.js';
import { systemClock, type Clock } from '../clock.js';
import { Cooldown, type CooldownOptions } from './cooldown.js';
import { CLOSED, type Admission, type Breaker, type CircuitState } from './breaker.js';

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

/**
 * Opens after `maxFailures` consecutive failures, stays open for `cooldown`, then admits at most
 * `halfOpenProbes` concurrent trials: a trial success closes it, a trial failure reopens it (with a
 * cooldown grown by `cooldownMultiplier`, capped at `maxCooldown`). Outcomes of calls admitted before the
 * circuit opened do not decide a half-open circuit: only probes do.
 */
export class ConsecutiveBreaker implements Breaker {
  readonly #maxFailures: number;
  readonly #cooldown: Cooldown;
  #state: CircuitState = CLOSED;
  #failures = 0;
  #probesInFlight = 0;
  readonly #clock: Clock;

  constructor(options: ConsecutiveBreakerOptions = {}, clock: Clock = systemClock, prefix = 'breaker') {
    optionsObject(prefix, options);
    this.#clock = clock;
    this.#maxFailures = integerAtLeast(`${prefix}.maxFailures`, options.maxFailures ?? 5, 1);
    this.#cooldown = new Cooldown(options, prefix, 1);
  }

  get state(): CircuitState {
    return this.#state;
  }

  canAcquire(): boolean {
    const state = this.#state;
    if (state.kind === 'closed') return true;
    if (state.kind === 'open' && this.#clock.now() < state.until) return false;
    return this.#probesInFlight < this.#cooldown.probes;
  }

  acquire(): Admission {
    const state = this.#state;
    if (state.kind === 'closed') return 'call';
    if (state.kind === 'open') {
      if (this.#clock.now() < state.until) return false;
      this.#state = { kind: 'half-open', trips: state.trips };
    }
    if (this.#probesInFlight >= this.#cooldown.probes) return false;
    this.#probesInFlight++;
    return 'probe';
  }

  success(admission: Exclude<Admission, false>): void {
    if (admission === 'probe') {
      this.#probesInFlight--;
      if (this.#state.kind === 'half-open') {
        this.#failures = 0;
        this.#state = CLOSED;
      }
    } else if (this.#state.kind === 'closed') {
      this.#failures = 0;
    }
  }

  failure(admission: Exclude<Admission, false>): void {
    const state = this.#state;
    if (admission === 'probe') {
      this.#probesInFlight--;
      if (state.kind === 'half-open') this.#open(state.trips + 1);
    } else if (state.kind === 'closed' && ++this.#failures >= this.#maxFailures) {
      this.#open(1);
    }
  }

  release(admission: Exclude<Admission, false>): void {
    if (admission === 'probe') this.#probesInFlight--;
  }

  #open(trips: number): void {
    this.#failures = 0;
    this.#state = { kind: 'open', until: this.#clock.now() + this.#cooldown.after(trips), trips };
  }
}
