import type { Call } from '../call.js';
import { ClientCallError, ClientPanicError, type ClientPoolError } from '../errors.js';
import { Attempt } from './attempt.js';
import { isBrandedError, type CallbackGuard } from './guard.js';
import { ended, type Outcome } from './outcome.js';

/** Recovery: whatever was thrown, the caller gets a clientpool error with the original as `cause`. */
export function recover(error: unknown, call: Call<unknown>): ClientPoolError {
  if (isBrandedError(error)) return error;
  let isError = false;
  try {
    isError = error instanceof Error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not an Error we can read.
  }
  return isError ? new ClientCallError(error as Error, call.clientName, call.method) : new ClientPanicError(error, call.clientName, call.method);
}

/**
 * The one classifier: what a rejected attempt says of its client. An attempt the pool ended itself
 * (timeout, cancellation) is decided by how it ended, never by decoding a signal's reason; a timeout is
 * always a failure, whatever `isFailure` says; an error raised before reaching the client is a refusal;
 * the rest is as `isFailure` decides (a throwing predicate counts the failure, and is reported).
 */
export function classify<T>(attempt: Attempt<T>, error: unknown, isFailure: (error: unknown) => boolean, guard: CallbackGuard): Outcome {
  if (attempt.endKind !== undefined) return ended(attempt.endKind, attempt.endError!);
  // After destroy(), a plain attempt (no race to end it) fails as the pool's signal said: cancelled.
  const destroyed = Attempt.hostOf(attempt).destroyError;
  if (destroyed !== undefined && attempt.race === undefined) return ended('cancelled', destroyed);
  // Never reached the client: a middleware or a limit refused it. Whatever the function itself threw,
  // a clientpool error of a nested pool included, is the client's to answer for.
  if (!attempt.isInvoked) {
    const recovered = recover(error, attempt);
    // A wait before the client that ended because the caller left, the call was won, or the pool closed;
    // a middleware's own abort (a nested pool's) while none of these happened is a refusal.
    const isCancel = (recovered.code === 'ERR_ABORTED' || recovered.code === 'ERR_POOL_CLOSED') && isOver(attempt);
    return ended(isCancel ? 'cancelled' : 'refused', recovered);
  }
  let recovered = recover(error, attempt);
  // A proxy call whose picked client has no such method stopped before reaching the client: no verdict
  // on it (a pool of clients of different kinds is not a broken client).
  if (recovered.code === 'ERR_MISSING_METHOD') return ended('refused', recovered);
  // The function's own abort or closed pool (a nested pool's) is not the caller's: wrapped, so that the
  // caller can tell it from an abort of its own.
  if (recovered.code === 'ERR_ABORTED' || recovered.code === 'ERR_POOL_CLOSED') recovered = new ClientCallError(recovered, attempt.clientName, attempt.method);
  // A timeout raised inside (a nested pool's) counts whatever `isFailure` says, as the pool's own does.
  if (recovered.code === 'ERR_TIMEOUT') return ended('failure', recovered);
  return ended(guard.call('isFailure', isFailure, error, true) ? 'failure' : 'answered', recovered);
}

/** Whether the attempt's call is over for a reason of the pool's or the caller's: then an abort is theirs. */
function isOver<T>(attempt: Attempt<T>): boolean {
  return attempt.options.signal?.aborted === true || attempt.group?.isDone === true || Attempt.hostOf(attempt).closingSignal.aborted;
}
