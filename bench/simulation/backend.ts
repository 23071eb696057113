import { setMaxListeners } from 'node:events';
import type { Random } from '../../src/index.js';
import { logNormal } from './rng.js';

/** What a backend does with a request that reaches it at a given moment. */
export type Mode =
  | { readonly kind: 'healthy'; readonly slowdown: number }
  /** Refuses at once (connection refused, 503): a fast error. */
  | { readonly kind: 'dead' }
  /** Accepts and never answers: only the caller's abort (a timeout) ends the request. */
  | { readonly kind: 'black-hole' };

/** Modes the scenarios are made of. */
export const HEALTHY: Mode = Object.freeze({ kind: 'healthy', slowdown: 1 });
export const DEAD: Mode = Object.freeze({ kind: 'dead' });
export const BLACK_HOLE: Mode = Object.freeze({ kind: 'black-hole' });

/** Latency of a healthy backend: log-normal, median 20 ms, p99 about 57 ms. */
export const LATENCY_MEDIAN_MS = 20;
export const LATENCY_SIGMA = 0.45;
/** How long a dead backend takes to refuse. */
export const DEAD_LATENCY_MS = 1;

/** The error a dead backend answers with. */
export class BackendDownError extends Error {
  override readonly name = 'BackendDownError';
}

/**
 * A fake upstream on the virtual clock. Its behaviour is a function of time (the scenario), its latency a
 * seeded log-normal draw. Like `fetch`, a live backend gives up a request when the request's signal
 * aborts (a hedge that lost, a timeout), so the request stops holding a timer.
 */
export class FakeBackend {
  readonly index: number;
  readonly name: string;
  /** Requests that reached this backend: attempts, hedges and retries included. */
  attempts = 0;
  readonly #random: Random;
  readonly #mode: (now: number) => Mode;
  readonly #now: () => number;
  readonly #onServed: (backend: FakeBackend, now: number) => void;

  constructor(index: number, random: Random, mode: (now: number) => Mode, now: () => number, onServed: (backend: FakeBackend, now: number) => void) {
    this.index = index;
    this.name = `b${index}`;
    this.#random = random;
    this.#mode = mode;
    this.#now = now;
    this.#onServed = onServed;
  }

  request(signal: AbortSignal): Promise<void> {
    this.attempts++;
    const mode = this.#mode(this.#now());
    // Not even the caller's abort reaches a black hole: the pool's own timeout has to end the call.
    if (mode.kind === 'black-hole') return new Promise<void>(() => {});
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const isDead = mode.kind === 'dead';
      // The fake clock keeps whole milliseconds (it truncates a delay): round instead, at least 1 ms.
      const latency = isDead ? DEAD_LATENCY_MS : Math.max(1, Math.round(logNormal(this.#random, LATENCY_MEDIAN_MS, LATENCY_SIGMA) * mode.slowdown));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (isDead) {
          reject(new BackendDownError(`${this.name} refused the request`));
        } else {
          this.#onServed(this, this.#now());
          resolve();
        }
      }, latency);
      // Calls without a timeout all share the pool's one never-aborted signal; more than 10 of them in
      // flight would print MaxListenersExceededWarning (reported upstream; fetch would do the same).
      setMaxListeners(0, signal);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
