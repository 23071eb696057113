import { EMPTY_OPTIONS, type RunOptions } from '../call.js';
import type { Clock } from '../clock.js';
import type { ClientPoolError } from '../errors.js';
import type { Middleware } from '../middleware/middleware.js';
import { OptionsRefusal } from '../pool-options.js';
import type { CallbackGuard } from './guard.js';

/** How one whole `pool.run()` ended, as its caller saw it: what `onCallEnd` hooks receive. */
export interface CallEnd<T> {
  /** The call's `method` option, or `'unknown'`: the label its attempts carry. */
  readonly method: string;
  /** The options `run()` was given, read once: the copy the call ran with (every run option a key), or as given when they were refused; undefined when it was given none. */
  readonly options: RunOptions<T> | undefined;
  /**
   * What the caller's promise rejected with (always a clientpool error: `ClientCallError`,
   * `TimeoutError`, `AllCircuitsOpenError`, `RateLimitedError`, `PoolClosedError`, ...), or undefined
   * when it resolved.
   */
  readonly error: ClientPoolError | undefined;
  /**
   * Milliseconds on the pool's clock from `run()` to the settle of the caller's promise: every attempt,
   * wait and backoff, and every `around` hook, included.
   */
  readonly durationMs: number;
  /**
   * Where the caller's answer came from: its own journey through the pool (`upstream`), another caller's
   * journey it joined by `coalesce` key (`shared`), a fresh cached result (`cache`), or a stale one served
   * because the call failed (`stale`, a `cache` with `staleIfError`).
   */
  readonly source: CallSource;
}

/** Where a call's answer came from: see {@link CallEnd.source}. */
export type CallSource = 'upstream' | 'shared' | 'cache' | 'stale';

/** Set by the coalescing and cache stages as a call goes through them: read when the call ends. */
export interface SourceRecord {
  source: CallSource;
}

/**
 * The end of every call, told to the middleware with an `onCallEnd` hook: one promise reaction per call,
 * outside every `around` hook, so a call refused before any client (`ERR_NO_CLIENTS`,
 * `ERR_ALL_CIRCUITS_OPEN`, `ERR_RATE_LIMITED`, `ERR_POOL_CLOSED`) or failed by an `around` hook is heard
 * too. Made by the pool only while such middleware is registered: without it a call costs nothing here,
 * and so a call that began before the first such middleware was added is not heard (its attempts that
 * end later are, by `onOutcome`).
 */
export class CallEnds<T> {
  readonly #observers: readonly Middleware<T>[];
  readonly #clock: Clock;
  readonly #guard: CallbackGuard;

  constructor(observers: readonly Middleware<T>[], clock: Clock, guard: CallbackGuard) {
    this.#observers = observers;
    this.#clock = clock;
    this.#guard = guard;
  }

  /**
   * The caller's promise for the call `journey` makes with `options` (the copy `readRunOptions` made, or
   * the refusal of them), given its label (read once here, as its attempts then have it) and the record of where its answer comes from: settles as the journey does, once every
   * hook heard how, with its duration on the pool's clock from now. A hook that throws or rejects is
   * reported as a `CLIENTPOOL_CALLBACK_ERROR` warning and changes nothing for the caller.
   */
  run(options: RunOptions<T> | OptionsRefusal, journey: (method: string, answer: SourceRecord) => Promise<unknown>): Promise<unknown> {
    const method = methodOf(options);
    const start = this.#clock.now();
    const answer: SourceRecord = { source: 'upstream' };
    const given = givenOf(options);
    return journey(method, answer).then(
      (value) => {
        this.#tell({ method, options: given, error: undefined, durationMs: this.#since(start), source: answer.source });
        return value;
      },
      (error: unknown) => {
        this.#tell({ method, options: given, error: error as ClientPoolError, durationMs: this.#since(start), source: answer.source });
        throw error;
      },
    );
  }

  /** Ms since `start`, never below 0: a clock stepped back (NTP, a user's clock) must not make a negative duration. */
  #since(start: number): number {
    return Math.max(0, this.#clock.now() - start);
  }

  #tell(end: CallEnd<T>): void {
    const observers = this.#observers;
    for (let i = 0; i < observers.length; i++) {
      try {
        // An async hook is not waited for: its rejection is reported as a throw is.
        const returned: unknown = observers[i]!.onCallEnd!(end);
        if (returned !== undefined) this.#guard.watch(`middleware "${observers[i]!.name}" onCallEnd`, returned);
      } catch (error) {
        this.#guard.warn(`middleware "${observers[i]!.name}" onCallEnd`, error);
      }
    }
  }
}

/** The options a call's observers get: undefined for none, the copy it ran with, or as given when refused. */
export function givenOf<T>(options: RunOptions<T> | OptionsRefusal): RunOptions<T> | undefined {
  if (options === EMPTY_OPTIONS) return undefined;
  return OptionsRefusal.is(options) ? (options.given as RunOptions<T>) : options;
}

/** The method label, read without trusting the options: `run()` validates them and rejects bad ones. */
export function methodOf(options: unknown): string {
  try {
    const method = typeof options === 'object' && options !== null ? (options as { method?: unknown }).method : undefined;
    return typeof method === 'string' ? method : 'unknown';
  } catch {
    // A Proxy or a getter that throws (quorum options; run()'s are a copy or a refusal, read already).
    return 'unknown';
  }
}
