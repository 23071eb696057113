/**
 * What makes a breaker kind: when a closed circuit should open, and whether a probe's success is good
 * enough to count. A policy only counts. The {@link Circuit} owns the lifecycle: it asks the policy about
 * calls admitted while closed and nothing else, so adding a kind never changes the circuit (like
 * cockatiel's `IBreaker` or Polly's `CircuitBehavior`).
 *
 * Durations are in milliseconds and `NaN` unless the pool times calls, which it does only when
 * {@link TripPolicy.usesDuration} is true.
 *
 * @example
 * ```ts
 * // Opens on any failure slower than a second.
 * const slowFailure: TripPolicy = {
 *   usesDuration: true,
 *   onSuccess: () => false,
 *   onFailure: (durationMs) => durationMs > 1_000,
 *   isGoodProbe: () => true,
 *   reset: () => {},
 * };
 * ```
 */
export interface TripPolicy {
  /** True when the policy needs call durations: the pool then times every call. */
  readonly usesDuration: boolean;
  /**
   * Count a success of a call admitted while closed. A success can open the circuit too (a slow call
   * that brings the slow-call rate over its threshold).
   * @returns true to open the circuit now.
   */
  onSuccess(durationMs: number): boolean;
  /**
   * Count a failure of a call admitted while closed.
   * @returns true to open the circuit now.
   */
  onFailure(durationMs: number): boolean;
  /**
   * Whether a probe that succeeded in `durationMs` counts towards closing the circuit; false reopens it
   * as a failed probe would (a slow probe). A failed probe always reopens it: it is not asked.
   */
  isGoodProbe(durationMs: number): boolean;
  /** Forget every outcome counted. Called when the circuit closes: a client back from open starts afresh. */
  reset(): void;
}
