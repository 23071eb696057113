import { systemClock, type Clock } from '../clock.js';
import { AbortedError, InvalidOptionError, PoolClosedError, RateLimitedError } from '../errors.js';
import { abortSignal, clockOption, finiteAtLeast, nonNegative, optionsObject, positive } from '../validate.js';
import type { Limiter, TakeOptions } from './limiter.js';
import type { TokenWaiter as Waiter } from './token-waiter.js';

/**
 * Float tolerance in ms: an interval such as 1000/7 ms does not add up exactly, and a token due "now"
 * must not be refused by a rounding error (waitTime would then say 0 and a caller could spin).
 */
const ROUNDING = 1e-6;

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second: a finite number > 0. */
  readonly rate: number;
  /**
   * Bucket size: tokens that may be taken at once after a quiet period.
   * @default max(1, rate)
   */
  readonly burst?: number;
  /**
   * Default longest wait of `take()` in milliseconds.
   * @default 1_000
   */
  readonly maxWait?: number;
  /** Time source. @default performance.now() */
  readonly clock?: Clock;
}

/**
 * An in-memory token bucket: `rate` tokens per second, up to `burst` at once. Kept as a theoretical
 * arrival time (GCRA) rather than a float token count, so the arithmetic does not drift: at rate 10 and
 * burst 20, exactly 20 + 10·t calls pass in t seconds. Waiters are served in FIFO order by one timer that
 * exists only while someone waits; an aborted waiter leaves the queue having taken nothing.
 */
export class TokenBucket implements Limiter {
  readonly rate: number;
  readonly burst: number;
  readonly #interval: number;
  readonly #capacity: number;
  readonly #maxWait: number;
  readonly #clock: Clock;
  /** When the bucket would be full again if nothing more were taken: the GCRA state. */
  #tat = Number.NEGATIVE_INFINITY;
  readonly #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TokenBucketOptions, prefix = 'limit') {
    optionsObject(prefix, options);
    if (options === undefined) throw new InvalidOptionError(prefix, 'an options object with rate', options);
    this.rate = positive(`${prefix}.rate`, options.rate);
    this.burst = finiteAtLeast(`${prefix}.burst`, options.burst ?? Math.max(1, this.rate), 1);
    this.#maxWait = nonNegative(`${prefix}.maxWait`, options.maxWait ?? 1_000);
    this.#clock = clockOption(`${prefix}.clock`, options.clock) ?? systemClock;
    this.#interval = 1_000 / this.rate;
    this.#capacity = this.burst * this.#interval;
  }

  /** Tokens available now (fractional). */
  get available(): number {
    const now = this.#clock.now();
    return Math.max(0, this.#capacity - Math.max(0, this.#tat - now)) / this.#interval;
  }

  /**
   * Take `n` tokens if they are there now and nobody is queued before us.
   * @throws InvalidOptionError when `n` is not a number in (0, burst].
   */
  tryTake(n = 1): boolean {
    if (!(n > 0 && n <= this.burst)) throw new InvalidOptionError('tokens', `a number > 0 and <= burst (${this.burst})`, n);
    if (this.#waiters.length > 0) return false;
    return this.#takeAt(n, this.#clock.now());
  }

  /**
   * Milliseconds until `n` more tokens can be taken (0 when now), after those queued waiters wait for.
   * Computed as `tryTake` decides, so that with no one queued a wait of 0 means `tryTake` succeeds.
   */
  waitTime(n = 1): number {
    const queued = this.#waiters.length === 0 ? 0 : this.#waiters.reduce((sum, w) => sum + w.n, 0);
    const excess = this.#excess(queued + n, this.#clock.now());
    return excess > ROUNDING ? excess : 0;
  }

  take(n = 1, options: TakeOptions = {}): Promise<void> {
    try {
      return this.#take(n, options);
    } catch (error) {
      // Bad arguments reject like every other refusal instead of throwing at the caller.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- InvalidOptionError
      return Promise.reject(error);
    }
  }

  #take(n: number, options: TakeOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (!(n > 0 && n <= this.burst)) return Promise.reject(new InvalidOptionError('tokens', `a number > 0 and <= burst (${this.burst})`, n));
    optionsObject('take options', options);
    const signal = abortSignal('signal', options.signal);
    const maxWait = options.maxWait === undefined ? this.#maxWait : nonNegative('maxWait', options.maxWait);
    if (signal?.aborted === true) return Promise.reject(new AbortedError(signal.reason));
    const now = this.#clock.now();
    if (this.#waiters.length === 0 && this.#takeAt(n, now)) return Promise.resolve();
    // Those already queued come first: this waiter is served after their tokens and its own.
    const queued = this.#waiters.reduce((sum, w) => sum + w.n, 0);
    const wait = Math.max(0, this.#excess(queued + n, now));
    if (wait > maxWait) return Promise.reject(new RateLimitedError(wait, 'bucket'));
    return new Promise<void>((resolve, reject) => {
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.#remove(waiter);
              reject(new AbortedError(signal.reason));
              this.#schedule();
            };
      const waiter: Waiter = { n, deadline: now + maxWait, resolve, reject, signal, onAbort };
      signal?.addEventListener('abort', onAbort!, { once: true });
      this.#waiters.push(waiter);
      this.#schedule();
    });
  }

  /**
   * Feedback from the upstream (a 429 with `Retry-After`): empty the bucket and add nothing for `ms`.
   * Waiters whose deadline can no longer be met fail with `RateLimitedError`.
   */
  pause(ms: number): void {
    nonNegative('pause', ms);
    const now = this.#clock.now();
    this.#tat = Math.max(this.#tat, now + ms + this.#capacity);
    this.#schedule();
  }

  /** Reject every waiter and stop the timer. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      this.#detach(waiter);
      waiter.reject(new PoolClosedError());
    }
    this.#clearTimer();
  }

  /** How far past the bucket's capacity taking `n` tokens at `now` would go: > 0 means not yet, by that many ms. */
  #excess(n: number, now: number): number {
    return Math.max(this.#tat, now) + n * this.#interval - now - this.#capacity;
  }

  #takeAt(n: number, now: number): boolean {
    if (this.#excess(n, now) > ROUNDING) return false;
    this.#tat = Math.max(this.#tat, now) + n * this.#interval;
    return true;
  }

  /** Serve the head of the queue while tokens last; reject waiters who can no longer be served in time; re-arm the timer. */
  #schedule(): void {
    this.#clearTimer();
    const now = this.#clock.now();
    const waiters = this.#waiters;
    while (waiters.length > 0 && this.#takeAt(waiters[0]!.n, now)) {
      const waiter = waiters.shift()!;
      this.#detach(waiter);
      waiter.resolve();
    }
    let ahead = 0;
    for (let i = 0; i < waiters.length; ) {
      const waiter = waiters[i]!;
      const readyAt = now + this.#excess(ahead + waiter.n, now);
      if (readyAt > waiter.deadline) {
        waiters.splice(i, 1);
        this.#detach(waiter);
        waiter.reject(new RateLimitedError(readyAt - now, 'bucket'));
      } else {
        ahead += waiter.n;
        i++;
      }
    }
    if (waiters.length > 0) {
      const head = waiters[0]!;
      const delay = Math.max(0, this.#excess(head.n, now));
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, Math.ceil(delay));
    }
  }

  #remove(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    this.#detach(waiter);
  }

  #detach(waiter: Waiter): void {
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
