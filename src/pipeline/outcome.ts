import type { ClientPoolError } from '../errors.js';

/**
 * How one attempt ended, decided once by the pool (see `classify` in attempt.ts) and read by everything
 * else: the breaker, the client's counters, latency, retries, and middleware `onOutcome` hooks such as
 * the Prometheus and OpenTelemetry adapters.
 *
 * - `success`: the function resolved.
 * - `failure`: counts against the client: an error `isFailure` accepts, a timeout, or an attempt outrun
 *   by a hedge on another client. `error` is what the caller gets for it.
 * - `answered`: the client answered with an error that `isFailure` does not count (a 404, say).
 * - `refused`: the attempt never reached the client: a middleware or a limit refused it with a clientpool
 *   error. The breaker hears nothing.
 * - `cancelled`: ended without a verdict: the caller aborted, a hedge won, or the pool was destroyed.
 */
export type Outcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'failure' | 'answered' | 'refused' | 'cancelled'; readonly error: ClientPoolError };

/** The one success outcome: successes allocate nothing. */
export const SUCCESS: Outcome = Object.freeze({ kind: 'success' });

/** An outcome with an error. */
export function ended(kind: 'failure' | 'answered' | 'refused' | 'cancelled', error: ClientPoolError): Outcome {
  return { kind, error };
}
