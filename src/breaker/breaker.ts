import type { Clock } from '../clock.js';
import type { Random } from '../random.js';

/** The closed state: calls flow. */
export interface ClosedState {
  readonly kind: 'closed';
}
/** The open state: no calls until `until` (a {@link Clock} time). `trips` counts consecutive openings. */
export interface OpenState {
  readonly kind: 'open';
  readonly until: number;
  readonly trips: number;
}
/** The half-open state: a bounded number of trial calls decide between closed and open. */
export interface HalfOpenState {
  readonly kind: 'half-open';
  readonly trips: number;
}
/**
 * A circuit's lifecycle as a discriminated union. States are immutable objects: a new object means a
 * transition, which is how the pool notices one without callbacks.
 */
export type CircuitState = ClosedState | OpenState | HalfOpenState;

/** The one closed state object; breakers return to it so that identity marks transitions. */
export const CLOSED: ClosedState = Object.freeze({ kind: 'closed' });

/** Whether a call was admitted, and as what: a probe's verdict decides a half-open circuit. */
export type Admission = false | 'call' | 'probe';

/**
 * A per-client circuit breaker kind. The pool asks `acquire` before each call and reports its outcome
 * with exactly one of `success`, `failure` or `release` (no verdict, e.g. the caller aborted).
 * Implement it to add a breaker kind; the pool never changes for one. A breaker reads time from the
 * {@link BreakerContext} clock itself, and only when it needs it: the closed fast path reads no clock.
 */
export interface Breaker {
  readonly state: CircuitState;
  /** Admit a call, or refuse. May move open → half-open once the cooldown has passed. */
  acquire(): Admission;
  /** True when `acquire()` would admit, without taking anything. */
  canAcquire(): boolean;
  /** `durationMs` is `NaN` unless the pool times calls (see {@link Breaker.usesDuration}). */
  success(admission: Exclude<Admission, false>, durationMs: number): void;
  failure(admission: Exclude<Admission, false>, durationMs: number): void;
  release(admission: Exclude<Admission, false>): void;
  /** True when the breaker needs call durations (a slow-call rate): the pool then times every call. */
  readonly usesDuration?: boolean;
  /**
   * Open now for `ms` (>= 0) with `trips` consecutive openings, whatever the state: another process of
   * a fleet saw the client fail (docs/fleet.md). Optional: a breaker without it is not shared.
   */
  trip?(ms: number, trips: number): void;
  /** Close now, forgetting counts: another process's probes found the client healthy. Optional, as `trip`. */
  reset?(): void;
}

/** What a breaker factory gets: the pool's clock and randomness. */
export interface BreakerContext {
  readonly clock: Clock;
  readonly random: Random;
}

/** Makes one breaker per client. */
export type BreakerFactory = (context: BreakerContext) => Breaker;
