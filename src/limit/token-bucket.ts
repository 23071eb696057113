import { systemClock, type Clock } from '../clock.js';
import { AbortedError, InvalidOptionError, PoolClosedError, RateLimitedError } from '../errors.js';
import { givenOr, abortSignal, clockOption, duration, finiteAtLeast, keySet, knownKeys, MAX_DURATION_MS, optionsObject, positive, positiveDuration } from '../validate.js';
import type { Limiter, TakeOptions } from './limiter.js';
import { WaiterQueue } from './waiter-queue.js';

/**
 * Float tolerance in ms: an interval such as 1000/7 ms does not add up exactly, and a token due "now"
 * must not be refused by a rounding error (waitTime would then say 0 and a caller could spin).
 */
const ROUNDING = 1e-6;

/**
 * Brands every TokenBucket, through `Symbol.for` so that the ESM and the CJS build (or two installed
 * copies) recognise each other's buckets: see {@link isTokenBucket}.
 */
const brand = Symbol.for('clientpool.token-bucket');

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per `per` milliseconds (per second by default): a finite number > 0. */
  readonly rate: number;
  /**
   * The period `rate` counts over, in milliseconds: `{ rate: 10_000, per: 60_000 }` is 10 000 tokens a
   * minute. A duration > 0, at most 2^31-1.
   * @default 1_000
   */
  readonly per?: number;
  /**
   * Bucket size: tokens that may be taken at once after a quiet period.
   * @default max(1, rate)
   */
  readonly burst?: number;
  /**
   * Default longest wait of `take()` in milliseconds, at most 2^31-1.
   * @default 1_000
   */
  readonly maxWait?: number;
  /** Time source. @default performance.now() */
  readonly clock?: Clock;
}

const TOKEN_BUCKET_KEYS = keySet(['rate', 'per', 'burst', 'maxWait', 'clock']);

/** Most debt `adjust()` may run a bucket into, in ms of refill: the longest duration a timer takes. */
const MAX_DEBT_MS = MAX_DURATION_MS;

/**
 * An in-memory token bucket: `rate` tokens per second, up to `burst` at once. Kept as a theoretical
 * arrival time (GCRA) rather than a float token count, so the arithmetic does not drift: at rate 10 and
 * burst 20, exactly 20 + 10·t calls pass in t seconds. Waiters are served in FIFO order by one timer that
 * exists only while someone waits; an aborted waiter leaves the queue having taken nothing.
 */
export class TokenBucket implements Limiter {
  readonly [brand] = true;
  /** Tokens added per `per` ms. */
  readonly rate: number;
  /** The period of `rate`, in ms. */
  readonly per: number;
  readonly burst: number;
  readonly #interval: number;
  readonly #capacity: number;
  readonly #maxWait: number;
  readonly #clock: Clock;
  /** When the bucket would be full again if nothing more were taken: the GCRA state. */
  #tat = Number.NEGATIVE_INFINITY;
  /** Last time read, and how far the clock has stepped back in all: see `#now()`. */
  #last = Number.NEGATIVE_INFINITY;
  #skew = 0;
  readonly #queue: WaiterQueue<void>;
  #closed = false;

  constructor(options: TokenBucketOptions, prefix = 'limit') {
    optionsObject(prefix, options);
    knownKeys(prefix, options, TOKEN_BUCKET_KEYS);
    if (options === undefined) throw new InvalidOptionError(prefix, 'an options object with rate', options);
    this.rate = positive(`${prefix}.rate`, options.rate);
    this.per = options.per === undefined ? 1_000 : positiveDuration(`${prefix}.per`, options.per);
    this.burst = finiteAtLeast(`${prefix}.burst`, givenOr(options.burst, Math.max(1, this.rate)), 1);
    this.#maxWait = duration(`${prefix}.maxWait`, givenOr(options.maxWait, 1_000));
    this.#clock = clockOption(`${prefix}.clock`, options.clock) ?? systemClock;
    this.#interval = this.per / this.rate;
    this.#capacity = this.burst * this.#interval;
    this.#queue = new WaiterQueue<void>({
      clock: { now: () => this.#now() },
      perToken: this.#interval,
      wake: () => this.#serve(),
      late: (_waiter, retryAfterMs) => new RateLimitedError(retryAfterMs, 'bucket'),
    });
  }

  /** Tokens available now (fractional). */
  get available(): number {
    const now = this.#now();
    return Math.max(0, this.#capacity - Math.max(0, this.#tat - now)) / this.#interval;
  }

  /**
   * Take `n` tokens if they are there now and nobody is queued before us.
   * @throws InvalidOptionError when `n` is not a number in (0, burst].
   */
  tryTake(n = 1): boolean {
    if (!(n > 0 && n <= this.burst)) throw new InvalidOptionError('tokens', `a number > 0 and <= burst (${this.burst})`, n);
    if (this.#queue.length > 0) return false;
    return this.#takeAt(n, this.#now());
  }

  /**
   * Milliseconds until `n` more tokens can be taken (0 when now), after those queued waiters wait for.
   * Computed as `tryTake` decides, so that with no one queued a wait of 0 means `tryTake` succeeds.
   */
  waitTime(n = 1): number {
    const excess = this.#excess(this.#queue.tokens + n, this.#now());
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
    const maxWait = options.maxWait === undefined ? this.#maxWait : duration('maxWait', options.maxWait);
    if (signal?.aborted === true) return Promise.reject(new AbortedError(signal.reason));
    const now = this.#now();
    const queue = this.#queue;
    if (queue.length === 0 && this.#takeAt(n, now)) return Promise.resolve();
    // Those already queued come first: this waiter is served after their tokens and its own.
    const wait = Math.max(0, this.#excess(queue.tokens + n, now));
    if (wait > maxWait) return Promise.reject(new RateLimitedError(wait, 'bucket'));
    const taken = queue.push(undefined, n, now + maxWait, signal);
    // The first in line sets the timer for its tokens; those behind it are served from there.
    if (queue.length === 1) this.#serve();
    return taken;
  }

  /**
   * Feedback from the upstream (a 429 with `Retry-After`): empty the bucket and add nothing for `ms`
   * (at most 2^31-1). Waiters whose deadline can no longer be met fail at once with `RateLimitedError`.
   */
  pause(ms: number): void {
    duration('pause', ms);
    const now = this.#now();
    this.#tat = Math.max(this.#tat, now + ms + this.#capacity);
    if (this.#queue.length > 0) this.#serve();
  }

  /**
   * Settle a cost after the fact (`call.settle()`): `n > 0` charges `n` more tokens at once, without
   * waiting, into debt if need be (at most 2^31-1 ms of refill: takes wait until it is paid back);
   * `n < 0` gives `-n` back, never past a full bucket. Waiters are served at once if a refund lets them.
   * Never throws: `n` that is not a finite number is ignored (the pool validates what it passes).
   */
  adjust(n: number): void {
    if (!Number.isFinite(n) || n === 0 || this.#closed) return;
    const now = this.#now();
    const tat = Math.max(this.#tat, now) + n * this.#interval;
    // A refund below `now` would only say "full", which `now` says already.
    this.#tat = Math.min(Math.max(tat, now), now + this.#capacity + MAX_DEBT_MS);
    if (n < 0 && this.#queue.length > 0) this.#serve();
  }

  /** Reject every waiter with `PoolClosedError` and stop the timer. */
  close(): void {
    this.#closed = true;
    this.#queue.close(new PoolClosedError());
  }

  /**
   * The clock, made steady. A clock that steps back (NTP, a VM restored from a snapshot) would leave
   * `#tat` far ahead of it, refusing every token for the length of the step; instead the bucket's time
   * stands still at the step and goes on from there, so what was due in 100 ms is due in 100 ms.
   */
  #now(): number {
    const now = this.#clock.now() + this.#skew;
    if (now >= this.#last) return (this.#last = now);
    this.#skew += this.#last - now;
    return this.#last;
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

  /** The queue's turn: serve the head while tokens last, refuse those who can no longer make it, wake for the next head. */
  #serve(): void {
    const queue = this.#queue;
    const now = this.#now();
    for (;;) {
      for (let head = queue.head; head !== undefined && this.#takeAt(head.n, now); head = queue.head) queue.serve(undefined);
      const head = queue.head;
      if (head === undefined) return;
      // After a pause each waiter's turn comes later: refuse now those it pushes past their deadline.
      queue.refuseLate(Math.max(this.#tat, now) - this.#capacity);
      if (queue.head === head) {
        queue.wakeAt(now + Math.max(0, this.#excess(head.n, now)));
        return;
      }
    }
  }
}

/**
 * Whether `value` is a {@link TokenBucket} of any copy of clientpool. The package ships an ESM and a CJS
 * build, and a bucket made by one fails `instanceof TokenBucket` of the other: check with this instead.
 */
export function isTokenBucket(value: unknown): value is TokenBucket {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as { [brand]?: unknown })[brand] === true;
  } catch {
    // A Proxy that throws on every trap is not a bucket.
    return false;
  }
}
