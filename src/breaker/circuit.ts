import type { Clock } from '../clock.js';
import { CLOSED, type Admission, type Breaker, type CircuitState, type OpenState } from './breaker.js';
import type { Cooldown } from './cooldown.js';
import type { TripPolicy } from './trip-policy.js';

/**
 * The circuit lifecycle every breaker kind shares; the kind is a {@link TripPolicy} that only counts.
 *
 * - **Closed.** Every call is admitted, and its outcome goes to the policy, which says when to open.
 * - **Open.** No call until `until`: `cooldown` after the first opening, grown by `cooldownMultiplier`
 *   on each reopening from half-open and capped at `maxCooldown` (see {@link Cooldown}).
 * - **Half-open.** A period admits at most `halfOpenProbes` probes in all (a released probe gave no
 *   verdict and hands its permit back). It closes when that many have succeeded, and the policy forgets
 *   its counts; the first probe that fails, or that the policy finds not good (slow), reopens it with
 *   `trips + 1`.
 *
 * Outcomes of calls admitted before the circuit opened do not decide a half-open circuit: only probes
 * do, and the policy does not count them either. Every transition is a new state object (closed is the
 * {@link CLOSED} singleton), which is how the pool notices one.
 *
 * The closed path reads no clock and allocates nothing: only an open circuit reads the clock, in
 * `acquire()` and `canAcquire()`, and opening reads it once.
 *
 * A clock that steps back while the circuit is open does not lock it out for the length of the step: the
 * cooldown is then measured from the earlier time, and the circuit moves to a new open state whose `until`
 * is at most one cooldown away (the pool reports it as an open → open transition).
 */
export class Circuit implements Breaker {
  readonly usesDuration: boolean;
  readonly #policy: TripPolicy;
  readonly #cooldown: Cooldown;
  readonly #clock: Clock;
  #state: CircuitState = CLOSED;
  #probesInFlight = 0;
  /** Probe successes of the current half-open period. */
  #probeSuccesses = 0;
  /** Length of the open state's cooldown in ms: a deadline further away than that means the clock stepped back. */
  #openFor = 0;

  constructor(policy: TripPolicy, cooldown: Cooldown, clock: Clock) {
    this.#policy = policy;
    this.#cooldown = cooldown;
    this.#clock = clock;
    this.usesDuration = policy.usesDuration;
  }

  get state(): CircuitState {
    return this.#state;
  }

  canAcquire(): boolean {
    const state = this.#state;
    if (state === CLOSED) return true;
    if (state.kind === 'open' && this.#isCooling(state)) return false;
    return this.#probesInFlight + this.#probeSuccesses < this.#cooldown.probes;
  }

  acquire(): Admission {
    const state = this.#state;
    return state === CLOSED ? 'call' : this.#acquireOpen(state);
  }

  /** Out of `acquire()`, which stays small enough to inline into every pick: an open or half-open circuit. */
  #acquireOpen(state: CircuitState): Admission {
    if (state.kind === 'open') {
      if (this.#isCooling(state)) return false;
      this.#state = { kind: 'half-open', trips: state.trips };
    }
    // Probes still to succeed bound the admissions, so a half-open period admits `halfOpenProbes` in all.
    if (this.#probesInFlight + this.#probeSuccesses >= this.#cooldown.probes) return false;
    this.#probesInFlight++;
    return 'probe';
  }

  success(admission: Exclude<Admission, false>, durationMs: number): void {
    if (admission === 'probe') this.#probeDone(this.#policy.isGoodProbe(durationMs));
    else if (this.#state === CLOSED && this.#policy.onSuccess(durationMs)) this.#open(1);
  }

  failure(admission: Exclude<Admission, false>, durationMs: number): void {
    if (admission === 'probe') this.#probeDone(false);
    else if (this.#state === CLOSED && this.#policy.onFailure(durationMs)) this.#open(1);
  }

  release(admission: Exclude<Admission, false>): void {
    if (admission === 'probe') this.#probesInFlight--;
  }

  trip(ms: number, trips: number): void {
    this.#probeSuccesses = 0;
    this.#openFor = ms;
    this.#state = { kind: 'open', until: this.#clock.now() + ms, trips };
  }

  reset(): void {
    if (this.#state === CLOSED) return;
    this.#probeSuccesses = 0;
    this.#policy.reset();
    this.#state = CLOSED;
  }

  /** Whether the open `state` still refuses calls; re-measures its cooldown if the clock stepped back. */
  #isCooling(state: OpenState): boolean {
    const now = this.#clock.now();
    if (now >= state.until) return false;
    // Only a clock that went back from where it was at opening makes this sooner: float addition is monotonic.
    const until = now + this.#openFor;
    if (until < state.until) {
      this.#state = { kind: 'open', until, trips: state.trips };
      return now < until;
    }
    return true;
  }

  #probeDone(isGood: boolean): void {
    this.#probesInFlight--;
    const state = this.#state;
    // A probe of an earlier period may settle while open: it decides nothing.
    if (state.kind !== 'half-open') return;
    if (!isGood) {
      this.#open(state.trips + 1);
    } else if (++this.#probeSuccesses === this.#cooldown.probes) {
      this.#probeSuccesses = 0;
      this.#policy.reset();
      this.#state = CLOSED;
    }
  }

  #open(trips: number): void {
    const now = this.#clock.now();
    const openFor = this.#cooldown.after(trips);
    this.#probeSuccesses = 0;
    this.#openFor = openFor;
    this.#state = { kind: 'open', until: now + openFor, trips };
  }
}
