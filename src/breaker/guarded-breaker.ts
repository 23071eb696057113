import { CLOSED, type Admission, type Breaker, type CircuitState } from './breaker.js';
import { CallbackError } from '../errors.js';
import { isThenable, onRejected } from '../pipeline/guard.js';
import { Circuit } from './circuit.js';

/**
 * A breaker the pool did not make, guarded: a method that throws is reported (`warn`) and answers as a
 * breaker that knows nothing would: it refuses no call, and its state stays the last one it read; an
 * `async` method is misused the same way (its rejection reported, never unhandled). So a broken breaker
 * can neither leak a call nor stop the pool. The pool's own `Circuit` is used as it is.
 */
export function guardedBreaker(breaker: Breaker, warn: (name: string, error: unknown) => void): Breaker {
  if (breaker instanceof Circuit) return breaker;
  let last: CircuitState = CLOSED;
  const guard = <R>(name: string, fallback: R, run: () => R): R => {
    let result: R;
    try {
      result = run();
    } catch (error) {
      warn(`the breaker's ${name}`, error);
      return fallback;
    }
    if (result === undefined || typeof result !== 'object' || !isThenable(result)) return result;
    // An async method: a promise is no answer (an admission, a state), and its rejection is reported as a
    // throw is; the void ones (success, failure, release) are not waited for.
    onRejected(result, (error) => warn(`the breaker's ${name}`, error));
    if (fallback !== undefined) warn(`the breaker's ${name}`, new CallbackError(`the breaker's ${name}`, 'returned a promise where an answer was due at once'));
    return fallback;
  };
  return {
    get state(): CircuitState {
      return (last = guard('state', last, () => breaker.state));
    },
    acquire: (): Admission => guard('acquire()', 'call', () => breaker.acquire()),
    canAcquire: (): boolean => guard('canAcquire()', true, () => breaker.canAcquire()),
    success: (admission, durationMs): void => guard('success()', undefined, () => breaker.success(admission, durationMs)),
    failure: (admission, durationMs): void => guard('failure()', undefined, () => breaker.failure(admission, durationMs)),
    release: (admission): void => guard('release()', undefined, () => breaker.release(admission)),
    ...(breaker.usesDuration === true ? { usesDuration: true } : {}),
    // Shared by a fleet only when it has them (read once: a breaker's shape does not change).
    ...(typeof breaker.trip === 'function' ? { trip: (ms: number, trips: number): void => guard('trip()', undefined, () => breaker.trip!(ms, trips)) } : {}),
    ...(typeof breaker.reset === 'function' ? { reset: (): void => guard('reset()', undefined, () => breaker.reset!()) } : {}),
  };
}
