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

/** What a backend's data looks like at a moment: its chain height, and whether it forges what it answers. */
export interface DataState {
  /** The highest block it has. */
  readonly height: number;
  /** It answers a wrong hash for every block (a forked or buggy node). */
  readonly isLying: boolean;
}

/**
 * The hash of block `block` as an honest node answers it; a lying node answers `blockHash(block, true)`.
 * Deterministic, so the truth needs no storage.
 */
export function blockHash(block: number, isForged = false): string {
  // murmur3's finaliser of the block number; a forgery flips the top bit of the input (a consistent lie).
  let h = (block ^ (isForged ? 0x8000_0000 : 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return `0x${((h ^ (h >>> 16)) >>> 0).toString(16).padStart(8, '0')}`;
}

/** A backend's answer: the block asked for (or its latest), its hash as the backend tells it, and its height then. */
export interface Reply {
  readonly block: number;
  readonly hash: string;
  /** The backend's height when it answered. */
  readonly height: number;
}

/** How a {@link FakeBackend} behaves and what it reports to. */
export interface BackendSetup {
  readonly index: number;
  /** Latency of requests. */
  readonly random: Random;
  /** Latency of height polls: a stream of its own, so that polling does not shift the requests' draws. */
  readonly pollRandom: Random;
  /** Its behaviour at a moment (ms of virtual time). */
  readonly mode: (now: number) => Mode;
  /** Its data at a moment. */
  readonly data: (now: number) => DataState;
  readonly now: () => number;
  /** Told of each request it answered successfully. */
  readonly onServed: (backend: FakeBackend, now: number) => void;
}

/**
 * A fake upstream on the virtual clock. Its behaviour is a function of time (the scenario), its latency a
 * seeded log-normal draw. Like `fetch`, a live backend gives up a request when the request's signal
 * aborts (a hedge that lost, a timeout), so the request stops holding a timer.
 */
export class FakeBackend {
  readonly index: number;
  readonly name: string;
  /** Requests that reached this backend: attempts, hedges and retries included; height polls not. */
  attempts = 0;
  /** Height polls that reached it. */
  polls = 0;
  readonly #setup: BackendSetup;

  constructor(setup: BackendSetup) {
    this.index = setup.index;
    this.name = `b${setup.index}`;
    this.#setup = setup;
  }

  /** A request for block `block` (its latest when absent): its hash, with the backend's height when it answered. */
  request(signal: AbortSignal, block?: number): Promise<Reply> {
    this.attempts++;
    return this.#answer(signal, this.#setup.random, (now) => {
      const data = this.#setup.data(now);
      const asked = block ?? data.height;
      this.#setup.onServed(this, now);
      return { block: asked, hash: blockHash(asked, data.isLying), height: data.height };
    });
  }

  /** A height poll (`freshness.height`): the backend's height when it answers; fails and hangs as requests do. */
  height(signal: AbortSignal): Promise<number> {
    this.polls++;
    return this.#answer(signal, this.#setup.pollRandom, (now) => this.#setup.data(now).height);
  }

  #answer<R>(signal: AbortSignal, random: Random, produce: (now: number) => R): Promise<R> {
    const mode = this.#setup.mode(this.#setup.now());
    // Not even the caller's abort reaches a black hole: the pool's own timeout has to end the call.
    if (mode.kind === 'black-hole') return new Promise<R>(() => {});
    return new Promise<R>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const isDead = mode.kind === 'dead';
      // The fake clock keeps whole milliseconds (it truncates a delay): round instead, at least 1 ms.
      const latency = isDead ? DEAD_LATENCY_MS : Math.max(1, Math.round(logNormal(random, LATENCY_MEDIAN_MS, LATENCY_SIGMA) * mode.slowdown));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (isDead) reject(new BackendDownError(`${this.name} refused the request`));
        else resolve(produce(this.#setup.now()));
      }, latency);
      // Calls without a timeout all share the pool's one never-aborted signal; more than 10 of them in
      // flight would print MaxListenersExceededWarning (reported upstream; fetch would do the same).
      setMaxListeners(0, signal);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
