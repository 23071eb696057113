import { AbortedError, DeadlineExceededError, hasErrorCode, RetryBudgetExhaustedError, TimeoutError } from '../errors.js';
import type { Member } from '../member.js';
import type { CallFunction, RunOptions } from '../call.js';
import { Attempt, LOST_RACE, type AttemptGroup, type AttemptHost, type Plan } from '../pipeline/attempt.js';
import type { DeadlineQueue } from '../pipeline/deadlines.js';
import { TimedWatcher } from '../pipeline/timed-watcher.js';
import type { CallbackGuard } from '../pipeline/guard.js';
import { SignalWatch, type SignalWatches } from '../pipeline/signal-watch.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { Random } from '../random.js';
import type { HedgePolicy } from './hedge-policy.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

/** What a call with retries or hedges needs of its pool. */
export interface AttemptsHost<T> {
  readonly deadlines: DeadlineQueue;
  readonly signals: SignalWatches;
  readonly guard: CallbackGuard;
  readonly random: Random;
  /** The pool's clock. */
  now(): number;
  /** Whether the pool is closing: no new retry or hedge starts. */
  readonly isClosing: boolean;
  /** Run an attempt through the pipeline. */
  start(attempt: Attempt<T>): Promise<unknown>;
  /** One token of the retry budget, or false. */
  withdraw(): boolean;
  hedgeDelay(policy: HedgePolicy, method: string): number;
  /** Calls sleeping in a backoff, which `close()` ends. */
  readonly sleeping: Set<CallAttempts<T>>;
}

/** What every attempt of a call shares: the function, its options and label, its resolved plan. */
export interface CallSpec<T> {
  readonly fn: CallFunction<T, unknown>;
  readonly options: RunOptions<T>;
  readonly method: string;
  readonly plan: Plan<T>;
}

const RUNNING = 0;
const BACKING_OFF = 1;
const DONE = 2;

/**
 * The attempts of one call with retries or hedges, with explicit state: attempts run (a hedge starts when
 * the latest has not answered within the hedge delay), then, once every attempt in flight has failed,
 * a backoff and a retry on a client not yet tried. The first success wins and ends the others; every
 * extra attempt draws on the pool's retry budget (Finagle's and gRPC's retry budgets; hedging as in
 * "The Tail at Scale", Dean and Barroso, 2013). One timer slot serves the hedge delay and the backoff,
 * which never overlap.
 */
export class CallAttempts<T> extends TimedWatcher implements AttemptGroup<T> {
  readonly tried: Member<T>[] = [];
  readonly #host: AttemptsHost<T> & AttemptHost<T>;
  readonly #retry: RetryPolicy | undefined;
  readonly #hedge: HedgePolicy | undefined;
  readonly #method: string;
  readonly #signal: AbortSignal | undefined;
  readonly #spec: CallSpec<T>;
  #state = RUNNING;
  readonly #inFlight: Attempt<T>[] = [];
  #attempts = 0;
  #retriesLeft: number;
  #hedgesLeft: number;
  #previousDelay: number;
  /** The last attempt's error: a later failure to even choose a client must not hide it. */
  #lastError: Error | undefined;
  /** When each attempt of a hedged call was launched, by attempt number: to say how long a loser ran. */
  readonly #launchedAt: number[] = [];
  #waitController: AbortController | undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (error: Error) => void;

  constructor(host: AttemptsHost<T> & AttemptHost<T>, retry: RetryPolicy | undefined, hedge: HedgePolicy | undefined, spec: CallSpec<T>) {
    super();
    this.#host = host;
    this.#spec = spec;
    this.#retry = retry;
    this.#hedge = hedge;
    this.#method = spec.method;
    this.#signal = spec.options.signal;
    this.#retriesLeft = retry === undefined ? 0 : retry.attempts - 1;
    this.#hedgesLeft = hedge === undefined ? 0 : hedge.maxHedges;
    this.#previousDelay = retry?.initial ?? 0;
  }

  get isDone(): boolean {
    return this.#state === DONE;
  }

  /** Aborted once the call is over: ends the waits of attempts that have not started. Made when first read. */
  get waitSignal(): AbortSignal {
    this.#waitController ??= new AbortController();
    if (this.#state === DONE) this.#waitController.abort(LOST_RACE);
    return this.#waitController.signal;
  }

  /** Run the call: the first attempt, then hedges and retries as the policies allow. */
  run(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#launch('first');
    });
  }

  /**
   * Retries after a first attempt run plain: a call with retries but no hedge runs its first attempt as a
   * plain one, so that one that succeeds costs what a plain call costs; the retry machinery is made only
   * once it fails.
   */
  static after<T>(host: AttemptsHost<T> & AttemptHost<T> & { readonly isPickFirst: boolean }, first: Attempt<T>, retry: RetryPolicy, chain: (attempt: Attempt<T>) => Promise<unknown>): Promise<unknown> {
    first.markRetried();
    if (host.isPickFirst) {
      // Every failure of the first attempt goes through the pick stage, which hands it to `resume`: a
      // first attempt that succeeds costs no promise more than a plain call.
      first.retryAfterFailure = retry;
      return chain(first);
    }
    return chain(first).then(undefined, (error: unknown) => CallAttempts.resume(host, first, retry, error as Error));
  }

  /** The retries of a call whose first attempt, run plain, failed with `error`. */
  static resume<T>(host: AttemptsHost<T> & AttemptHost<T>, first: Attempt<T>, retry: RetryPolicy, error: Error): Promise<unknown> {
    return new CallAttempts(host, retry, undefined, first).#resume(first, error);
  }

  /** Go on after `first` failed with `error`. */
  #resume(first: Attempt<T>, error: Error): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#attempts = 1;
      if (first.member !== undefined) this.tried.push(first.member);
      this.#afterFailure(first, error);
    });
  }

  /** End a call sleeping in a backoff: the pool is closing. It fails with its last attempt's error. */
  wake(): void {
    if (this.#state === BACKING_OFF) this.#finish(this.#lastError ?? new AbortedError(undefined, 'the pool closed during a retry backoff'));
  }

  #launch(kind: 'first' | 'retry' | 'hedge'): void {
    const host = this.#host;
    const spec = this.#spec;
    const attempt = new Attempt(host, spec.fn, spec.options, spec.method, spec.plan, ++this.#attempts, kind, this, Attempt.mayEndEarly(spec.plan, spec.options, this.#hedge !== undefined));
    if (this.#hedge !== undefined) this.#launchedAt[attempt.attempt] = host.now();
    this.#inFlight.push(attempt);
    if (this.#hedgesLeft > 0) {
      host.deadlines.remove(this);
      host.deadlines.add(this, host.hedgeDelay(this.#hedge!, this.#method));
    }
    host.start(attempt).then(
      (value) => this.#succeeded(attempt, value),
      (error: unknown) => this.#failed(attempt, error as Error),
    );
  }

  /** The hedge delay or the backoff is over. */
  override expire(): void {
    if (this.#state === BACKING_OFF) {
      this.#host.sleeping.delete(this);
      SignalWatch.leave(this);
      this.#state = RUNNING;
      this.#launch('retry');
      return;
    }
    if (this.#state !== RUNNING || this.#hedgesLeft === 0 || this.#host.isClosing || this.#isPastDeadline() || !this.#host.withdraw()) return;
    this.#hedgesLeft--;
    this.#launch('hedge');
  }

  /** Whether the call's deadline has passed: no hedge starts then (its attempts are ending). */
  #isPastDeadline(): boolean {
    const deadlineAt = this.#spec.plan.deadlineAt;
    return deadlineAt !== undefined && this.#host.deadlines.now() >= deadlineAt;
  }

  /** The caller aborted during a backoff (attempts in flight watch the signal themselves). */
  override aborted(reason: unknown): void {
    this.#finish(new AbortedError(reason));
  }

  #succeeded(winner: Attempt<T>, value: unknown): void {
    this.#forget(winner);
    if (this.#state === DONE) return;
    // An attempt outrun by one launched after it, on another client, was slower than a peer: a timeout
    // of its client (a black hole must reach its breaker even when hedges always save the call). One on
    // the same client, or launched later, is merely cancelled.
    const now = this.#host.now();
    for (const loser of this.#inFlight) {
      if (loser.attempt < winner.attempt && loser.isInvoked && loser.member !== winner.member) {
        const error = new TimeoutError(Math.max(0, Math.round(now - (this.#launchedAt[loser.attempt] ?? now))), loser.clientName);
        loser.end('failure', error, error);
      } else {
        loser.end('cancelled', LOST_RACE, LOST_RACE);
      }
    }
    this.#finish(undefined, value);
  }

  #failed(attempt: Attempt<T>, error: Error): void {
    this.#forget(attempt);
    if (this.#state === DONE) return;
    this.#afterFailure(attempt, error);
  }

  /** An attempt failed (`wasChosen`: after it held a client): finish, wait for others, or back off and retry. */
  #afterFailure(attempt: Attempt<T>, error: Error): void {
    const wasChosen = attempt.member !== undefined;
    if (isCallerAbort(attempt, error)) return this.#finish(error);
    // No client could be chosen: report the last attempt's failure if there was one (as the cause, when
    // the deadline ended the wait).
    if (!wasChosen) {
      if (this.#inFlight.length === 0) this.#finish(this.#lastError === undefined ? error : hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED') ? new DeadlineExceededError(error.deadlineMs, undefined, this.#lastError) : this.#lastError);
      return;
    }
    this.#lastError = error;
    if (this.#inFlight.length > 0) return;
    const delay = this.#retryDelay(error, attempt);
    if (typeof delay !== 'number') return this.#finish(delay);
    // A callback of the retry (retryOn, retryAfter) closed the pool: close() woke the sleepers already.
    if (this.#host.isClosing) return this.#finish(error);
    this.#retriesLeft--;
    this.#previousDelay = delay;
    this.#state = BACKING_OFF;
    this.#host.sleeping.add(this);
    this.#host.deadlines.remove(this);
    this.#host.deadlines.add(this, delay);
    if (this.#signal !== undefined) this.#host.signals.join(this.#signal, this);
  }

  /** The backoff before the next retry, or the error to finish with. */
  #retryDelay(error: Error, attempt: Attempt<T>): number | Error {
    const retry = this.#retry;
    const host = this.#host;
    if (retry === undefined || this.#retriesLeft === 0 || host.isClosing) return error;
    const isWorthIt = retry.retryOn === undefined ? isRetryable(attempt.outcome) : host.guard.call2('retry.retryOn', retry.retryOn, error, attempt.attempt, false);
    if (!isWorthIt) return error;
    const backoff = backoffDelay(retry, attempt.attempt, this.#previousDelay, host.random);
    const retryAfter = host.guard.call('retry.retryAfter', retry.retryAfter, error, undefined);
    const after = typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter : 0;
    if (!(after <= retry.max)) return error;
    const delay = Math.max(backoff, after);
    // A retry that could not start before the deadline is not worth a backoff, nor a budget token.
    const { deadline, deadlineAt } = this.#spec.plan;
    if (deadlineAt !== undefined && host.deadlines.now() + delay >= deadlineAt) return hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED') ? error : new DeadlineExceededError(deadline!, undefined, error);
    if (!host.withdraw()) return new RetryBudgetExhaustedError(error, this.#attempts);
    return delay;
  }

  #forget(attempt: Attempt<T>): void {
    const i = this.#inFlight.indexOf(attempt);
    if (i >= 0) this.#inFlight.splice(i, 1);
  }

  #finish(error: Error | undefined, value?: unknown): void {
    if (this.#state === DONE) return;
    if (this.#state === BACKING_OFF) this.#host.sleeping.delete(this);
    this.#state = DONE;
    this.#host.deadlines.remove(this);
    SignalWatch.leave(this);
    this.#waitController?.abort(LOST_RACE);
    if (error === undefined) this.#resolve(value);
    else this.#reject(error);
  }
}

/**
 * The default retry rule, read from the pool's verdict: a failure of the client, which another client
 * may not share; or a refusal by a middleware's own error (an auth token that could not be fetched for
 * this client, say), which another client's middleware may not raise. Not the pool's own refusals (a
 * rate limit, a closed pool), nor answered errors, nor cancellations. A proxy call that picked a client
 * without the method (`ERR_MISSING_METHOD`) is retried too: another client may have it.
 */
function isRetryable(outcome: Outcome | undefined): boolean {
  if (outcome === undefined || outcome.kind === 'success') return false;
  if (outcome.kind === 'failure') return true;
  return outcome.kind === 'refused' && (outcome.error.code === 'ERR_CLIENT_CALL' || outcome.error.code === 'ERR_CLIENT_PANIC' || outcome.error.code === 'ERR_MISSING_METHOD');
}

/**
 * Whether the caller (its signal) ended the call, read from the attempt's Outcome: a cancellation while
 * the caller's signal is aborted. Not one by the pool closing (`close()` waits for the call's other
 * attempts in flight; `destroy()` ends each of them), nor an `AbortedError` the function itself threw (a
 * nested pool's): that is the client's failure, retried by the rule. An attempt that never held a client
 * has no Outcome: its error is the pool's own, raised by a wait the caller's signal ended (a limiter's own
 * AbortedError, with the caller's signal not aborted, is not the caller's).
 */
function isCallerAbort<T>(attempt: Attempt<T>, error: Error): boolean {
  const kind = attempt.outcome?.kind ?? attempt.endKind;
  if (kind !== undefined) return kind === 'cancelled' && error !== LOST_RACE && attempt.options.signal?.aborted === true;
  // Only when the caller's signal did abort: a limiter may reject a wait with an AbortedError of its own.
  return attempt.member === undefined && hasErrorCode(error, 'ERR_ABORTED') && error !== LOST_RACE && attempt.options.signal?.aborted === true;
}
