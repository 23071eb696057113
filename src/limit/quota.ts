import { AbortedError, InvalidOptionError } from '../errors.js';
import type { Cost } from './cost.js';
import { DEFAULT_COST, REQUESTS } from './cost.js';
import type { Limiter } from './limiter.js';
import type { TokenBucket } from './token-bucket.js';

/** One named limit of a quota: an in-memory bucket (answered at once) or a shared limiter (waited on). */
interface Dimension {
  readonly name: string;
  readonly bucket: TokenBucket | undefined;
  readonly limiter: Limiter;
}

/**
 * The limits of one client (or of the pool), each a token bucket counting its own unit: requests per
 * second, tokens per minute, dollars per day. A call costs an amount of each (`Cost`) and passes only
 * when every limit has room for its amount. In-memory buckets are answered at once, so the pool routes
 * around a client whose buckets are short; shared limiters (a Redis bucket) are waited on.
 */
export class Quota {
  /** The in-memory buckets, routed around. */
  readonly #local: readonly Dimension[];
  /** The shared limiters, waited on. */
  readonly #shared: readonly Dimension[];
  /** The lone `requests` bucket when it is the only limit: the plain call's path reads nothing else. */
  readonly #requestsOnly: TokenBucket | undefined;
  readonly #byName: ReadonlyMap<string, Dimension>;

  constructor(limits: ReadonlyMap<string, { readonly bucket: TokenBucket } | { readonly limiter: Limiter }>) {
    const local: Dimension[] = [];
    const shared: Dimension[] = [];
    const byName = new Map<string, Dimension>();
    for (const [name, limit] of limits) {
      const dimension: Dimension = 'bucket' in limit ? { name, bucket: limit.bucket, limiter: limit.bucket } : { name, bucket: undefined, limiter: limit.limiter };
      (dimension.bucket === undefined ? shared : local).push(dimension);
      byName.set(name, dimension);
    }
    this.#local = local;
    this.#shared = shared;
    this.#byName = byName;
    this.#requestsOnly = local.length === 1 && shared.length === 0 && local[0]!.name === REQUESTS ? local[0]!.bucket : undefined;
  }

  /** Told of a limiter's `adjust` that throws while tokens are given back; the pool sets its own. */
  warn: (what: string, error: unknown) => void = () => {};

  /** Whether it has limits that are waited on (shared ones). */
  get hasShared(): boolean {
    return this.#shared.length > 0;
  }

  /** Whether it counts `name`. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * Take `cost` from every in-memory bucket at once, or from none: false when one is short (or has
   * waiters queued before this call).
   */
  tryTakeLocal(cost: Cost, keep = 0): boolean {
    const requests = this.#requestsOnly;
    if (requests !== undefined && cost === DEFAULT_COST && keep === 0) return requests.tryTake(1);
    if (!this.hasRoom(cost, keep)) return false;
    const local = this.#local;
    for (let i = 0; i < local.length; i++) {
      const dimension = local[i]!;
      const n = cost[dimension.name];
      if (n === undefined || n <= 0 || dimension.bucket!.tryTake(n)) continue;
      // Refused after all (a bucket shared with other code took in between): give back what was taken.
      for (let j = 0; j < i; j++) {
        const taken = cost[local[j]!.name];
        if (taken !== undefined && taken > 0) local[j]!.bucket!.adjust(-taken);
      }
      return false;
    }
    return true;
  }

  /**
   * Whether every in-memory bucket has room for `cost` now and would keep `keep` (a share of its burst)
   * after it: what a low-priority call may take (the pool's `reserve`).
   */
  hasRoom(cost: Cost, keep: number): boolean {
    const local = this.#local;
    for (let i = 0; i < local.length; i++) {
      const dimension = local[i]!;
      const n = cost[dimension.name];
      if (n === undefined || n <= 0) continue;
      const bucket = dimension.bucket!;
      const need = n + keep * bucket.burst;
      if (need <= bucket.burst ? bucket.waitTime(need) === 0 : n <= bucket.burst && bucket.waitTime(bucket.burst) === 0) continue;
      // (A bucket too small to keep the reserve after this cost serves it only when full.)
      return false;
    }
    return true;
  }

  /** Whether every in-memory bucket can ever hold `cost` (its amount is at most the bucket's burst). */
  fits(cost: Cost): boolean {
    for (const dimension of this.#byName.values()) {
      const n = cost[dimension.name];
      if (n === undefined) continue;
      const burst = burstOf(dimension.limiter);
      if (burst !== undefined && n > burst) return false;
    }
    return true;
  }

  /** The burst of its `name` limit, where the limit says one, for an error that says what would fit. */
  burstOf(name: string): number | undefined {
    const dimension = this.#byName.get(name);
    return dimension === undefined ? undefined : burstOf(dimension.limiter);
  }

  /** Milliseconds until every in-memory bucket has room for `cost` (0 when now). */
  waitTime(cost: Cost): number {
    let wait = 0;
    for (const dimension of this.#local) {
      const n = cost[dimension.name];
      if (n !== undefined && n > 0 && n <= dimension.bucket!.burst) wait = Math.max(wait, dimension.bucket!.waitTime(n));
    }
    return wait;
  }

  /**
   * The share of its in-memory quota left, from 0 to 1: the smallest of `available / burst` over its
   * buckets (1 with none). What the `most-headroom` strategy picks by.
   */
  get headroom(): number {
    let share = 1;
    for (const dimension of this.#local) share = Math.min(share, dimension.bucket!.available / dimension.bucket!.burst);
    return share;
  }

  /** Tokens left now in each in-memory bucket, by name (fractional); `undefined` without any. */
  available(): Record<string, number> | undefined {
    if (this.#local.length === 0) return undefined;
    const left: Record<string, number> = {};
    for (const dimension of this.#local) left[dimension.name] = dimension.bucket!.available;
    return left;
  }

  /** The `requests` bucket in memory, if it has one (`members().tokens`). */
  get requests(): TokenBucket | undefined {
    return this.#byName.get(REQUESTS)?.bucket;
  }

  /**
   * The upstream asked for a pause (429 with `Retry-After`): the in-memory `requests` bucket is emptied and
   * adds nothing for `ms`. Other limits keep their tokens: a 1-s pause must not spend a daily budget (the
   * pool keeps the client out for `ms` all the same).
   */
  pause(ms: number): void {
    this.#byName.get(REQUESTS)?.bucket?.pause(ms);
  }

  /**
   * Take `cost` from the shared limiters (`all`: from every limit, the in-memory ones too), one after
   * another, each waiting in its own FIFO order up to what is left of `maxWait`. A refusal gives back what
   * was taken (through `adjust`, where the limiter has it) and rejects as the limiter did.
   */
  async take(cost: Cost, options: { readonly signal?: AbortSignal | undefined; readonly maxWait: number }, all: boolean, now: () => number): Promise<void> {
    const dimensions = all ? [...this.#local, ...this.#shared] : this.#shared;
    for (const dimension of dimensions) {
      const n = cost[dimension.name];
      const burst = burstOf(dimension.limiter);
      if (n !== undefined && burst !== undefined && n > burst) throw new InvalidOptionError(`cost.${dimension.name}`, `at most the burst of its limit (${burst})`, n);
    }
    const until = now() + options.maxWait;
    const taken: Dimension[] = [];
    try {
      for (const dimension of dimensions) {
        const n = cost[dimension.name];
        if (n === undefined || n <= 0) continue;
        const maxWait = Math.max(0, until - now());
        const signal = options.signal;
        if (signal === undefined) await dimension.limiter.take(n, { maxWait });
        else if (taken.length === 0) await dimension.limiter.take(n, { signal, maxWait });
        // With tokens of others held, given up when its signal aborts, whether or not the limiter honours it
        // (the pool's backstop aborts it for a take that never answers): what the others granted goes back
        // now, and a grant that comes after goes back when it comes. (A grant after the abort with nothing
        // held is given back below.)
        // A real promise of what the limiter returned: whatever that is (no promise, a thenable that fulfils twice), it settles once.
        else await untilAborted(Promise.resolve(dimension.limiter.take(n, { signal, maxWait })), signal, () => giveBack([dimension], cost, this.warn));
        taken.push(dimension);
        // Granted after the wait was given up (a limiter that ignores the signal): nobody will use it.
        if (options.signal?.aborted === true) throw new AbortedError(options.signal.reason);
      }
    } catch (error) {
      giveBack(taken, cost, this.warn);
      throw error;
    }
  }

  /**
   * Take `cost` from every limit now if each has room, else none: the pool-wide quota's fast path. Shared
   * limiters answer through their own `tryTake` where they have one; one without it makes this false.
   */
  tryTakeAll(cost: Cost, keep = 0): boolean {
    // The in-memory buckets first: giving back to them is free, to a shared one it is a round trip.
    if (!this.tryTakeLocal(cost, keep)) return false;
    // Most limits are in memory only: no list of what was taken to keep.
    if (this.#shared.length === 0) return true;
    const taken: Dimension[] = [...this.#local];
    for (const dimension of this.#shared) {
      const n = cost[dimension.name];
      if (n === undefined || n <= 0) continue;
      let isTaken: boolean;
      try {
        isTaken = dimension.limiter.tryTake?.(n) === true;
      } catch (error) {
        giveBack(taken, cost, this.warn);
        throw error;
      }
      if (!isTaken) {
        giveBack(taken, cost, this.warn);
        return false;
      }
      taken.push(dimension);
    }
    return true;
  }

  /**
   * Give `cost` back to the in-memory buckets (`all`: to every limit, through `adjust` where a shared one
   * has it): an attempt that took it but never reached its client (refused, shed, no client at all).
   */
  giveBack(cost: Cost, all: boolean): void {
    giveBack(all ? [...this.#local, ...this.#shared] : this.#local, cost, this.warn);
  }

  /**
   * Settle: `actual` is what the call really cost, `charged` what was taken for it so far. Each limit
   * named in `actual` is charged or refunded the difference; a limit without `adjust` keeps what it took.
   * A limiter's `adjust` that throws is reported to `warn`, never to the caller.
   */
  settle(actual: Cost, charged: Cost, warn: (what: string, error: unknown) => void): void {
    for (const name of Object.keys(actual)) {
      const dimension = this.#byName.get(name);
      if (dimension === undefined) continue;
      const delta = actual[name]! - (charged[name] ?? 0);
      if (delta === 0) continue;
      try {
        dimension.limiter.adjust?.(delta);
      } catch (error) {
        warn(`the "${name}" limit's adjust()`, error);
      }
    }
  }

  /** Close every limit (`pool.close()`): timers stop and waiters are refused. */
  async close(): Promise<void> {
    await Promise.all([...this.#local, ...this.#shared].map(async (dimension) => dimension.limiter.close?.()));
  }
}

/** Give each of `dimensions` its amount of `cost` back, through `adjust` (a limiter without it keeps it; one that throws is passed over). */
/**
 * `take`, or an `AbortedError` (the reason as `cause`) as soon as `signal` aborts; a grant that comes after
 * that is handed to `lateGrant`, and a late refusal is dropped (nobody waits for it).
 */
function untilAborted(take: Promise<void>, signal: AbortSignal, lateGrant: () => void): Promise<void> {
  if (signal.aborted) {
    take.then(lateGrant, noop);
    return Promise.reject(new AbortedError(signal.reason));
  }
  return new Promise((resolve, reject) => {
    let isOver = false;
    const onAbort = (): void => {
      isOver = true;
      reject(new AbortedError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    take.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        if (isOver) lateGrant();
        else resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the limiter's own error, as take() gives it
        if (!isOver) reject(error);
      },
    );
  });
}

function noop(): void {}

function giveBack(dimensions: readonly Dimension[], cost: Cost, warn: (what: string, error: unknown) => void): void {
  for (const dimension of dimensions) {
    const n = cost[dimension.name];
    if (n === undefined || n <= 0) continue;
    try {
      dimension.limiter.adjust?.(-n);
    } catch (error) {
      warn(`the "${dimension.name}" limit's adjust()`, error);
    }
  }
}

/** A limiter's `burst`, where it says one (the in-memory and the Redis buckets do). */
function burstOf(limiter: Limiter): number | undefined {
  const burst = (limiter as { readonly burst?: unknown }).burst;
  return typeof burst === 'number' ? burst : undefined;
}
