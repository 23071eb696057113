import type { RunOptions } from '../call.js';
import { AbortedError } from '../errors.js';

/** One call run on behalf of every caller that asked with its key while it ran. */
interface Flight {
  readonly promise: Promise<unknown>;
  /** Aborts the shared call once every caller has left. */
  readonly controller: AbortController;
  /** Callers still waiting for it. */
  waiting: number;
}

/**
 * Single flight (Go's `singleflight`, opossum's request coalescing): calls with the same `coalesce` key
 * that overlap share one journey through the pool, and its result or error reaches each of them. The
 * first caller's function and options run it; each caller keeps its own `signal`: one that aborts leaves
 * alone (its promise rejects with `AbortedError`), and the shared call is aborted only once every caller
 * has left. A key is forgotten when its call settles, so memory is bounded by the calls in flight.
 */
export class Coalescer<T> {
  readonly #flights = new Map<string, Flight>();

  /** Calls sharing a journey now, by key. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Join the flight of `options.coalesce`, or start it with `start` (given the options the shared call
   * runs with: the caller's, with a signal of the flight's own and no `coalesce`).
   */
  run(options: RunOptions<T>, start: (shared: RunOptions<T>) => Promise<unknown>): Promise<unknown> {
    const key = options.coalesce!;
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      const controller = new AbortController();
      const shared: { -readonly [K in keyof RunOptions<T>]: RunOptions<T>[K] } = { ...options, signal: controller.signal };
      delete shared.coalesce;
      delete shared.cache;
      const promise = start(shared);
      const started: Flight = { promise, controller, waiting: 0 };
      this.#flights.set(key, (flight = started));
      const forget = (): void => {
        if (this.#flights.get(key) === started) this.#flights.delete(key);
      };
      promise.then(forget, forget);
    }
    return this.#join(flight, options.signal);
  }

  /** The caller's own promise for `flight`: it leaves when its signal aborts, the last one out aborting the call. */
  #join(flight: Flight, signal: AbortSignal | undefined): Promise<unknown> {
    flight.waiting++;
    if (signal === undefined) return flight.promise;
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        flight.waiting--;
        reject(new AbortedError(signal.reason));
        if (flight.waiting === 0) flight.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the pool's own error, as the caller would get it
          reject(error);
        },
      );
    });
  }
}
