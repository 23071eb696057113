import type { ClientPoolError } from '../errors.js';
import type { ClientQueue } from '../limit/client-queue.js';
import type { Quota } from '../limit/quota.js';
import type { Roster } from '../roster.js';
import type { Attempt } from './attempt.js';
import type { DeadlineQueue } from './deadlines.js';
import type { Outcome } from './outcome.js';
import type { SignalWatches } from './signal-watch.js';

/** What the built-in stages share of their pool. */
export interface StageContext<T> {
  readonly roster: Roster<T>;
  readonly queue: ClientQueue<T>;
  readonly limit: Quota | undefined;
  readonly deadlines: DeadlineQueue;
  readonly signals: SignalWatches;
  /** Whether `close()` was called: no new attempt takes a client. */
  readonly isClosing: boolean;
  /** What a call the closing pool refuses gets: `destroy()`'s error (its reason as cause) when destroy() closed it. */
  closedError(): ClientPoolError;
  /** The pool's clock; `isTimed` says whether attempts are timed at all. */
  now(): number;
  readonly isTimed: boolean;
  /** Report a wait for a rate-limit token (or a refusal) to `onRateLimit` listeners. */
  reportLimit(scope: 'pool' | 'client', client: string | undefined, method: string, since: number, rejected: boolean): void;
  /** The one classifier of a rejected attempt. */
  classify(attempt: Attempt<T>, error: unknown): Outcome;
  /**
   * A held attempt rejected with `error`: classified, settled, and its typed error thrown, or, for a first
   * attempt with `retryAfterFailure`, the retries' promise returned.
   */
  fail(attempt: Attempt<T>, error: unknown): Promise<unknown>;
  /**
   * An attempt that holds no client failed with `error` (refused, or its wait ended): a promise rejected
   * with it, or, for a first attempt with `retryAfterFailure`, the retries' promise.
   */
  rejected(attempt: Attempt<T>, error: unknown): Promise<unknown>;
  /**
   * Whether attempts are tracked one by one for `destroy()`: raced ones always; plain ones while an
   * observer (`onOutcome`) must hear of each. Others are released by count.
   */
  readonly tracksPlain: boolean;
  /** A bound attempt `destroy()` must be able to end one by one. */
  track(attempt: Attempt<T>): void;
  /** The one settle: the breaker, counters, latency and observers, exactly once per bound attempt. */
  settle(attempt: Attempt<T>, outcome: Outcome): void;
}
