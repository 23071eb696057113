import { InvalidOptionError } from '../errors.js';
import type { Random } from '../random.js';
import { callable, duration, givenOr, integerAtLeast, keySet, knownKeys, nonNegative, optionsObject, unreadableOptions } from '../validate.js';

/** How long to wait between attempts. */
export interface BackoffOptions {
  /** First delay in ms, at most 2^31-1 (the longest Node timer). @default 50 */
  readonly initial?: number;
  /** Largest delay in ms, at most 2^31-1; a `Retry-After` longer than this ends the retries. @default 2_000 */
  readonly max?: number;
  /** Growth per attempt. @default 2 */
  readonly multiplier?: number;
  /**
   * `full`: uniform in [0, exponential delay] (AWS "full jitter"); `decorrelated`: uniform in
   * [initial, 3 x previous delay]; `none`: the exponential delay itself.
   * @default 'full'
   */
  readonly jitter?: 'full' | 'decorrelated' | 'none';
}

/** Retry on another client. */
export interface RetryOptions {
  /** Attempts in all, the first included (1 = no retry). @default 3 */
  readonly attempts?: number;
  readonly backoff?: BackoffOptions;
  /**
   * Whether to retry after this error (a clientpool error; the original is its `cause`).
   * @default client failures and timeouts; not the caller's abort, a rate limit, or all circuits open
   */
  readonly retryOn?: (error: Error, attempt: number) => boolean;
  /**
   * The upstream's `Retry-After` in ms, read from an error; the retry then waits at least that long.
   * @default the error's own `retryAfterMs`, or the first one found along its `cause` chain
   */
  readonly retryAfter?: (error: Error) => number | undefined;
}

/** A validated retry policy. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initial: number;
  readonly max: number;
  readonly multiplier: number;
  readonly jitter: 'full' | 'decorrelated' | 'none';
  readonly retryOn: ((error: Error, attempt: number) => boolean) | undefined;
  readonly retryAfter: (error: Error) => number | undefined;
}

const JITTERS = ['full', 'decorrelated', 'none'] as const;

/** Validate retry options (`false` turns retries off). */
export function retryPolicy(option: RetryOptions | false | undefined, prefix = 'retry'): RetryPolicy | undefined {
  if (option === undefined || option === false) return undefined;
  optionsObject(prefix, option);
  try {
    return validRetry(option, prefix);
  } catch (error) {
    // A getter or a Proxy trap that throws: a typed error, with what it threw as the cause.
    throw unreadableOptions(prefix, option, error);
  }
}

const RETRY_KEYS = keySet(['attempts', 'backoff', 'retryOn', 'retryAfter']);
const BACKOFF_KEYS = keySet(['initial', 'max', 'multiplier', 'jitter']);

function validRetry(option: RetryOptions, prefix: string): RetryPolicy {
  knownKeys(prefix, option, RETRY_KEYS);
  // Checked as given: `null` is refused, not taken as the defaults.
  const given = option.backoff;
  optionsObject(`${prefix}.backoff`, given);
  const backoff = given ?? {};
  knownKeys(`${prefix}.backoff`, backoff, BACKOFF_KEYS);
  const jitter = givenOr(backoff.jitter, 'full');
  if (!JITTERS.includes(jitter)) throw new InvalidOptionError(`${prefix}.backoff.jitter`, 'one of "full", "decorrelated", "none"', jitter);
  const initial = duration(`${prefix}.backoff.initial`, givenOr<unknown>(backoff.initial, 50));
  const max = duration(`${prefix}.backoff.max`, givenOr<unknown>(backoff.max, 2_000));
  if (max < initial) throw new InvalidOptionError(`${prefix}.backoff.max`, `>= backoff.initial (${initial})`, max);
  return {
    attempts: integerAtLeast(`${prefix}.attempts`, givenOr<unknown>(option.attempts, 3), 1),
    initial,
    max,
    multiplier: nonNegative(`${prefix}.backoff.multiplier`, givenOr<unknown>(backoff.multiplier, 2)),
    jitter,
    retryOn: option.retryOn === undefined ? undefined : callable(`${prefix}.retryOn`, option.retryOn),
    retryAfter: option.retryAfter === undefined ? defaultRetryAfter : callable(`${prefix}.retryAfter`, option.retryAfter),
  };
}

/** The delay before attempt `attempt + 1`, given the previous delay (for decorrelated jitter). */
export function backoffDelay(policy: RetryPolicy, attempt: number, previous: number, random: Random): number {
  // 0 x Infinity is NaN: a zero start stays zero however steep the growth, and an overflow is the cap.
  const grown = policy.initial === 0 ? 0 : policy.initial * policy.multiplier ** (attempt - 1);
  const exponential = grown <= policy.max ? grown : policy.max;
  switch (policy.jitter) {
    case 'none':
      return exponential;
    case 'full':
      return random() * exponential;
    case 'decorrelated':
      return Math.min(policy.max, policy.initial + random() * (Math.max(policy.initial, previous * 3) - policy.initial));
  }
}

/** Links of a `cause` chain {@link defaultRetryAfter} follows at most: chains can be cyclic. */
const MAX_CAUSE_DEPTH = 16;

/**
 * The first `retryAfterMs` (a finite number >= 0) along the error's `cause` chain, or undefined.
 * Errors come from user code and upstream libraries, so the walk is bounded (a cycle `a.cause = b;
 * b.cause = a` would otherwise spin forever) and a read that throws (a getter, a Proxy) ends it with
 * "no retry-after" rather than failing the call.
 */
function defaultRetryAfter(error: Error): number | undefined {
  try {
    let e: unknown = error;
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof e === 'object' && e !== null; depth++) {
      const value = (e as { retryAfterMs?: unknown }).retryAfterMs;
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
      e = (e as { cause?: unknown }).cause;
    }
  } catch {
    // Fall through: no retry-after.
  }
  return undefined;
}
