import { CLOSED, type Admission, type Breaker, type CircuitState } from './breaker.js';
import { Circuit } from './circuit.js';

/**
 * A breaker the pool did not make, guarded: a method that throws is reported (`warn`) and answers as a
 * breaker that knows nothing would: it refuses no call, and its state stays the last one it read. So a
 * broken breaker can neither leak a call nor stop the pool. The pool's own `Circuit` is used as it is.
 */
export function guardedBreaker(breaker: Breaker, warn: (name: string, error: unknown) => void): Breaker {
  if (breaker instanceof Circuit) return breaker;
  let last: CircuitState = CLOSED;
  const guard = <R>(name: string, fallback: R, run: () => R): R => {
    try {
      return run();
    } catch (error) {
      warn(`the breaker's ${name}`, error);
      return fallback;
    }
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
  };
}
