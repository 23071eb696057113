import type { Balancer } from '../balancers/balancer.js';
import type { AttemptKind, Call, CallFunction, CallKey, RunOptions } from '../call.js';
import { AbortedError, hasErrorCode, TimeoutError, type ClientPoolError } from '../errors.js';
import type { Admission } from '../breaker/breaker.js';
import type { Member } from '../member.js';
import type { DeadlineList, Timed } from './deadlines.js';
import type { SignalWatch, Watcher } from './signal-watch.js';

/** What an attempt needs of its pool. */
export interface AttemptHost<T> {
  /** The signal of attempts nothing but `pool.destroy()` can abort: one per pool, shared. */
  readonly poolSignal: AbortSignal;
  /** `call.pauseClient(ms)`. */
  pause(member: Member<T>, ms: number): void;
  /** End an attempt that was bound to a client with no race to reject (a plain attempt, destroyed). */
  release(attempt: Attempt<T>): void;
}

/** What retries and hedges share between the attempts of one call. */
export interface AttemptGroup<T> {
  /** The call is over (a success, a final failure, the caller left): attempts still waiting give up. */
  readonly isDone: boolean;
  /** Clients this call tried already: avoided while others are ready. */
  readonly tried: Member<T>[];
  /** Aborted once the call is over: ends the waits (tokens, a client) of attempts not yet started. */
  readonly waitSignal: AbortSignal;
}

/** The abort reason of an attempt that lost a hedge race: not a failure of its client. */
export const LOST_RACE = new AbortedError(undefined, 'hedge lost: another attempt of this call succeeded first');

/** An own property of every attempt naming itself: survives `{ ...call }`, so a copy leads back to it. */
const SELF = Symbol('clientpool.attempt');

const WAITING = 0;
const RUNNING = 1;
const ENDED = 2;

/**
 * One attempt of a call, from the moment it asks for a token to its outcome. It is also the `Call` that
 * middleware and the user's function see (one object, no copies), with the client filled in once one is
 * picked. Its `signal` is created only when read: a function that ignores it costs no `AbortController`.
 */
export class Attempt<T> implements Call<T>, Timed, Watcher {
  static readonly self: typeof SELF = SELF;
  readonly [SELF]: Attempt<T> = this;
  client!: T;
  clientName = '';
  readonly method: string;
  readonly attempt: number;
  readonly kind: AttemptKind;
  readonly options: RunOptions<T>;
  readonly fn: CallFunction<T, unknown>;
  readonly host: AttemptHost<T>;
  readonly timeout: number | undefined;
  readonly balancer: Balancer<T>;
  readonly maxWait: number;
  /** The caller's signal, if any. */
  readonly callerSignal: AbortSignal | undefined;
  readonly group: AttemptGroup<T> | undefined;
  /** Whether something other than `destroy()` may end it early: a timeout, the caller's signal, a hedge. */
  readonly isRaced: boolean;

  member: Member<T> | undefined;
  admission: Exclude<Admission, false> = 'call';
  /** Pool clock time it started, or NaN when not timed. */
  start = Number.NaN;
  #state = WAITING;
  /** Set when the pool ended it before its function settled: a timeout, a cancellation. */
  endKind: 'failure' | 'cancelled' | undefined;
  endError: ClientPoolError | undefined;
  #abortReason: unknown;
  #controller: AbortController | undefined;
  #reject: ((error: Error) => void) | undefined;
  /** Pool clock time when a hedged call launched it. */
  launchedAt = 0;
  /** Whether the chain reached the user's function, and the promise it returned. */
  isInvoked = false;
  invocation: Promise<unknown> | undefined;
  #values: Map<CallKey<unknown>, unknown> | undefined;

  // Intrusive links: the deadline queue, the caller signal's watch, the member's attempts in flight.
  deadline = 0;
  deadlineList: DeadlineList | undefined;
  deadlinePrev: Timed | undefined;
  deadlineNext: Timed | undefined;
  watched: SignalWatch | undefined;
  watchPrev: Watcher | undefined;
  watchNext: Watcher | undefined;
  memberPrev: Attempt<T> | undefined;
  memberNext: Attempt<T> | undefined;

  constructor(
    host: AttemptHost<T>,
    fn: CallFunction<T, unknown>,
    options: RunOptions<T>,
    method: string,
    timeout: number | undefined,
    balancer: Balancer<T>,
    maxWait: number,
    attempt: number,
    kind: AttemptKind,
    group: AttemptGroup<T> | undefined,
    isHedged: boolean,
  ) {
    this.host = host;
    this.fn = fn;
    this.options = options;
    this.method = method;
    this.timeout = timeout;
    this.balancer = balancer;
    this.maxWait = maxWait;
    this.attempt = attempt;
    this.kind = kind;
    this.group = group;
    this.callerSignal = options.signal;
    this.isRaced = timeout !== undefined || options.signal !== undefined || isHedged;
  }

  get key(): string | undefined {
    return this.options.key;
  }

  /** Aborted when the attempt is ended by a timeout, the caller, a lost hedge or `destroy()`; never after success. */
  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    if (!this.isRaced && this.endKind === undefined) return this.host.poolSignal;
    const controller = (this.#controller = new AbortController());
    if (this.endKind !== undefined) controller.abort(this.#abortReason);
    return controller.signal;
  }

  get isRunning(): boolean {
    return this.#state === RUNNING;
  }

  get isEnded(): boolean {
    return this.#state === ENDED;
  }

  /** A client was picked and admitted: the attempt now holds it until `markEnded()`. */
  bind(member: Member<T>, admission: Exclude<Admission, false>): void {
    this.member = member;
    this.admission = admission;
    this.client = member.client;
    this.clientName = member.name;
    this.#state = RUNNING;
    member.linkAttempt(this);
  }

  /** Called by the pool's settle, once: returns false when it had ended already. */
  markEnded(): boolean {
    if (this.#state === ENDED) return false;
    this.#state = ENDED;
    this.member?.unlinkAttempt(this);
    return true;
  }

  /** The race stage is running: `reject` ends the attempt early. */
  armRace(reject: (error: Error) => void): void {
    this.#reject = reject;
  }

  /**
   * End the attempt before its function settled: a failure of its client (timeout) or a cancellation.
   * Its signal aborts with `abortReason`; the caller gets `error`. No effect once ended.
   */
  end(kind: 'failure' | 'cancelled', error: ClientPoolError, abortReason: unknown): void {
    if (this.#state === ENDED || this.endKind !== undefined) return;
    this.endKind = kind;
    this.endError = error;
    this.#abortReason = abortReason;
    this.#controller?.abort(abortReason);
    if (this.#reject !== undefined) this.#reject(error);
    else if (this.#state === RUNNING) this.host.release(this);
  }

  /** Throw if the call is over while this attempt waited (the caller aborted, a hedge won, it was ended). */
  checkStillWanted(): void {
    if (this.endError !== undefined) throw this.endError;
    const signal = this.callerSignal;
    if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
    if (this.group?.isDone === true) throw LOST_RACE;
  }

  /** Deadline queue: the timeout passed, a failure of the client (a black hole must reach its breaker). */
  expire(): void {
    const error = new TimeoutError(this.timeout!, this.member === undefined ? undefined : this.clientName);
    this.end('failure', error, error);
  }

  /** Caller signal watch: the caller aborted. */
  aborted(reason: unknown): void {
    this.end('cancelled', new AbortedError(reason), reason);
  }

  invoke(): unknown {
    return this.fn(this.client, this);
  }

  pauseClient(ms: number): void {
    if (this.member !== undefined) this.host.pause(this.member, ms);
  }

  get<V>(key: CallKey<V>): V | undefined {
    return this.#values?.get(key) as V | undefined;
  }

  set<V>(key: CallKey<V>, value: V): void {
    (this.#values ??= new Map()).set(key, value);
  }
}

/**
 * Whether the attempt was cancelled rather than decided: the caller aborted it, a hedge won elsewhere,
 * or the pool was destroyed. A timeout is not a cancellation: it is a failure of the client.
 */
export function isCancelled(call: Call<unknown>): boolean {
  if (call instanceof Attempt) return call.endKind === 'cancelled';
  return call.signal.aborted && !hasErrorCode(call.signal.reason, 'ERR_TIMEOUT');
}
