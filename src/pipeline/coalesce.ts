import type { RunOptions } from '../call.js';
import { AbortedError } from '../errors.js';
import type { SourceRecord } from './call-end.js';
import { SignalWatch, type SignalWatches, type Watcher } from './signal-watch.js';

/** One call run on behalf of every caller that asked with its key while it ran. */
interface Flight {
  readonly promise: Promise<unknown>;
  /** Aborts the shared call once every caller has left. */
  readonly controller: AbortController;
  /** The callers' seats by their signal: callers sharing a signal leave together. */
  readonly bySignal: Map<AbortSignal, Seat>;
  /** Whether a caller with no signal waits: it never leaves, so the call is never aborted for want of callers. */
  hasSteadyCaller: boolean;
  /** Take the key off: a call that can no longer give a value must not be joined. */
  readonly forget: () => void;
  /** The priority it runs with (its first caller's): a caller of a higher one does not join it. */
  readonly priority: number;
}

/** A caller's priority as a rank, read without throwing (a bad value is refused where the flight starts). */
function rankOf(options: RunOptions<unknown>): number {
  try {
    const priority = options.priority;
    return priority === 'high' ? 2 : priority === 'low' ? 0 : 1;
  } catch {
    return 1;
  }
}

/**
 * Single flight (Go's `singleflight`, opossum's request coalescing): calls with the same `coalesce` key
 * that overlap share one journey through the pool, and its result or error reaches each of them. The
 * first caller's function and options run it; each caller keeps its own `signal`: one that aborts leaves
 * alone (its promise rejects with `AbortedError`), and the shared call is aborted only once every caller
 * has left (its key forgotten at once, so a later caller starts afresh). A key is forgotten when its call
 * settles, so memory is bounded by the calls in flight; a signal shared by many callers, of one flight or
 * of many, is heard through the pool's `SignalWatches`: one listener.
 */
export class Coalescer<T> {
  readonly #flights = new Map<string, Flight>();
  readonly #signals: SignalWatches;

  constructor(signals: SignalWatches) {
    this.#signals = signals;
  }

  /** Calls sharing a journey now, by key. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Join the flight of `options.coalesce`, or start it with `start`, given the options the shared call
   * runs with: a view of the caller's (every read, inherited ones and getters included, goes to them, as
   * for a call without a key) with a signal of the flight's own and no `coalesce` or `cache`.
   */
  run(options: RunOptions<T>, start: (shared: RunOptions<T>) => Promise<unknown>, answer?: SourceRecord): Promise<unknown> {
    const key = options.coalesce!;
    let flight = this.#flights.get(key);
    const priority = rankOf(options);
    // A caller that matters more than the flight's first does not share its fate (a low flight shed, a
    // normal one waiting behind others in line): it starts a flight of its own, which later callers join.
    if (flight !== undefined && priority > flight.priority) flight = undefined;
    if (flight !== undefined && answer !== undefined) answer.source = 'shared';
    if (flight === undefined) {
      const controller = new AbortController();
      const shared = Object.create(options, {
        signal: { value: controller.signal, enumerable: true },
        coalesce: { value: undefined },
        cache: { value: undefined },
        // Refused with coalesce; a getter that answered undefined to the check must not slip one in.
        minHeight: { value: undefined },
      }) as RunOptions<T>;
      const promise = start(shared);
      const started: Flight = {
        promise,
        controller,
        bySignal: new Map(),
        hasSteadyCaller: false,
        priority,
        forget: () => {
          if (this.#flights.get(key) === started) this.#flights.delete(key);
        },
      };
      this.#flights.set(key, (flight = started));
      promise.then(started.forget, started.forget);
    }
    return this.#join(flight, options.signal);
  }

  /** The caller's own promise for `flight`: it leaves when its signal aborts (at once, if it has), the last one out aborting the call. */
  #join(flight: Flight, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal === undefined) {
      flight.hasSteadyCaller = true;
      return flight.promise;
    }
    const joined = flight.bySignal.get(signal);
    if (joined !== undefined) return joined.promise;
    const seat = new Seat(flight, signal);
    flight.bySignal.set(signal, seat);
    this.#signals.join(signal, seat);
    return seat.promise;
  }
}

/** The callers of one flight that share a signal: one promise, gone from the flight when the signal aborts. */
class Seat implements Watcher {
  watchPrev: Watcher | undefined = undefined;
  watchNext: Watcher | undefined = undefined;
  watched: SignalWatch | undefined = undefined;
  readonly promise: Promise<unknown>;
  readonly #flight: Flight;
  readonly #signal: AbortSignal;
  #reject!: (error: unknown) => void;

  constructor(flight: Flight, signal: AbortSignal) {
    this.#flight = flight;
    this.#signal = signal;
    this.promise = new Promise((resolve, reject) => {
      this.#reject = reject;
      flight.promise.then(
        (value) => {
          SignalWatch.leave(this);
          resolve(value);
        },
        (error: unknown) => {
          SignalWatch.leave(this);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the pool's own error, as the caller would get it
          reject(error);
        },
      );
    });
  }

  aborted(reason: unknown): void {
    const flight = this.#flight;
    flight.bySignal.delete(this.#signal);
    this.#reject(new AbortedError(reason));
    if (flight.bySignal.size === 0 && !flight.hasSteadyCaller) {
      flight.forget();
      flight.controller.abort(reason);
    }
  }
}
