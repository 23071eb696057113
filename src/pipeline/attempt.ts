import type { Balancer } from '../balancers/balancer.js';
import { EMPTY_OPTIONS, type AttemptKind, type Call, type CallFunction, type CallKey, type RunOptions } from '../call.js';
import { AbortedError, DeadlineExceededError, hasErrorCode, TimeoutError, type ClientPoolError } from '../errors.js';
import type { Admission } from '../breaker/breaker.js';
import type { Member } from '../member.js';
import { TimedWatcher } from './timed-watcher.js';
import { SignalWatch, type SignalWatches, type Watcher } from './signal-watch.js';
import type { DeadlineList, DeadlineQueue, Timed } from './deadlines.js';
import type { Outcome } from './outcome.js';
import { costOption, emptyCost, type Cost } from '../limit/cost.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';

/** What an attempt needs of its pool. */
export interface AttemptHost<T> {
  /** Track an attempt one by one, so that `destroy()` ends it itself (and aborts its signal). */
  track(attempt: Attempt<T>): void;
  /** `call.pauseClient(ms)`. */
  pause(member: Member<T>, ms: number): void;
  /** `call.reportHeight(n)`. @throws InvalidOptionError for a height that is not one. */
  reportHeight(member: Member<T>, height: number | bigint): void;
  /** `call.settle(actual)`: adjust the limits the attempt took `charged` of. */
  settleCost(member: Member<T>, actual: Cost, charged: Cost): void;
  /** End an attempt that was bound to a client with no race to reject (a plain attempt, destroyed). */
  release(attempt: Attempt<T>): void;
  /** A held attempt failed with `error`: classified and settled; its typed error thrown, or its retries' promise returned. */
  fail(attempt: Attempt<T>, error: unknown): Promise<unknown>;
  /** `settle(attempt, SUCCESS)`, cheaper for a plain attempt nothing observes. */
  settleSuccess(attempt: Attempt<T>): void;
  /** `settleSuccess` for an attempt of the pick stage's lane, admitted as `admission` (the lane's are all `'call'`). */
  settleLaneSuccess(attempt: Attempt<T>, admission: Exclude<Admission, false>): void;
  /** `settle(attempt, SUCCESS)`, cheaper for the one raced attempt of a call that nothing observes. */
  settleRacedSuccess(attempt: Attempt<T>): void;
  /** What a call ended by `destroy()` fails with, once it was called. */
  readonly destroyError: ClientPoolError | undefined;
  /** Aborted (with a `PoolClosedError`) when the pool starts closing: ends every wait for a token or a client. */
  readonly closingSignal: AbortSignal;
  /** The pool's watches of caller signals: one listener per signal, however many calls wait on it. */
  readonly signals: SignalWatches;
}

/** What retries and hedges share between the attempts of one call. */
export interface AttemptGroup<T> {
  /** The call is over (a success, a final failure, the caller left): attempts still waiting give up. */
  readonly isDone: boolean;
  /**
   * Clients this call tried already: avoided while others are ready; never given to it again when the list
   * is strict (`isStrict`, a quorum's: see `Avoid` in roster.ts), which the pick passes on to the roster.
   */
  readonly tried: Member<T>[];
  /** Aborted once the call is over: ends the waits (tokens, a client) of attempts not yet started. */
  readonly waitSignal: AbortSignal;
}

/** The abort reason of an attempt that lost a hedge race: not a failure of its client. */
export const LOST_RACE: AbortedError = Object.freeze(new AbortedError(undefined, 'hedge lost: another attempt of this call succeeded first'));

// The bits of an attempt's `#bits`; its state is 0 (waiting), RUNNING or ENDED. The few operations every
// call makes (construct, bind, invoke, end) write theirs as literals, named in a comment: a module-level
// constant is read from its context slot, with a check, at each use.
const RUNNING = 1;
const ENDED = 2;
const STATE = 3;
const TIMED = 4;
const WAITED = 8;
const INVOKED = 16;
const PROBE = 32;
/** Bits 6-7: the kind. */
const KIND_SHIFT = 6;
const KIND_MASK = 3 << KIND_SHIFT;
const KINDS: readonly AttemptKind[] = ['first', 'retry', 'hedge', 'quorum'];
/** Its last wait was bounded by the call's deadline rather than by `maxWait`. */
const WAIT_CUT = 256;
/** The first attempt of a call with retries, run plain (`markRetried`). */
const RETRIED = 512;

/** What a call runs with, options resolved (call > method > pool): shared by the calls that override nothing. */
export interface Plan<T> {
  readonly timeout: number | undefined;
  /** The call's `deadline` option, in ms. */
  readonly deadline: number | undefined;
  /** When the call's deadline passes, on the deadline queue's clock (the pool's, never going back): its start + `deadline`. */
  readonly deadlineAt: number | undefined;
  readonly balancer: Balancer<T>;
  /** Longest wait for a token or a client, in ms. */
  readonly maxWait: number;
  /** What each attempt takes of the limits (`DEFAULT_COST`, one request, unless the call or its method says). */
  readonly cost: Cost;
  /** Its priority: `LOW`, `NORMAL` or `HIGH` (src/limit/priority.ts). */
  readonly priority: number;
  /** Whether its cost is one request and its priority normal: the pick asks nothing of a client (`Roster.selectPlain`). */
  readonly isPlainPick: boolean;
}

/** How the pool ended an attempt before its function settled. */
interface Ending {
  readonly kind: 'failure' | 'cancelled';
  readonly error: ClientPoolError;
  /** What its signal aborts with. */
  readonly reason: unknown;
}

/**
 * What only an attempt that can be ended early carries (timeout, caller signal, hedge): its links in the
 * deadline queue, the signal's watch and the pool's list of tracked attempts, and the promise its caller
 * waits on (`open()`), which an early end settles without waiting for the function. Plain attempts
 * allocate none of it.
 */
export class RaceState<T> implements Timed, Watcher {
  // Declared and set in the constructor, not a subclass of TimedWatcher with field initializers: one is
  // made per timed or signalled call, and a base-class constructor with initializers is not inlined.
  declare readonly attempt: Attempt<T>;
  /** The resolve and reject of the promise `open()` made; undefined once it was settled. */
  declare resolve: ((value: unknown) => void) | undefined;
  declare reject: ((error: unknown) => void) | undefined;
  /** Whether its deadline and the caller's signal may end it now: set by the race stage, once it armed them. */
  declare isArmed: boolean;
  /** Ms its timer was given when it is the call's deadline rather than the attempt's own timeout; -1 otherwise. */
  declare deadlineGivenMs: number;
  declare deadline: number;
  declare deadlineList: DeadlineList | undefined;
  declare deadlinePrev: Timed | undefined;
  declare deadlineNext: Timed | undefined;
  declare watched: SignalWatch | undefined;
  declare watchPrev: Watcher | undefined;
  declare watchNext: Watcher | undefined;
  declare trackPrev: Attempt<T> | undefined;
  declare trackNext: Attempt<T> | undefined;

  constructor(attempt: Attempt<T>) {
    this.attempt = attempt;
    this.resolve = undefined;
    this.reject = undefined;
    this.isArmed = false;
    this.deadlineGivenMs = -1;
    this.deadline = 0;
    this.deadlineList = undefined;
    this.deadlinePrev = undefined;
    this.deadlineNext = undefined;
    this.watched = undefined;
    this.watchPrev = undefined;
    this.watchNext = undefined;
    this.trackPrev = undefined;
    this.trackNext = undefined;
  }

  /**
   * The promise the attempt's caller waits on, settled by `succeed`, `fail` or an early end, whichever comes
   * first. Its executor is `capture`, bound to the race (see `Attempt.heldSucceeded` for why bound methods).
   */
  open(): Promise<unknown> {
    return new Promise<unknown>(this.capture.bind(this));
  }

  /**
   * The executor of `open()`'s promise: keeps its resolve and reject on the race, a new object (module
   * variables written per call would pay the write barrier: a store of a new object into an old one).
   */
  capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    this.resolve = resolve;
    this.reject = reject;
  }

  /**
   * Its function succeeded: settled, then the caller's promise resolves with `value` (or rejects with what
   * the settle threw). Nothing when it ended early: its caller has its answer, and the settle was done.
   */
  succeed(value: unknown): void {
    const { resolve, reject } = this;
    if (resolve === undefined || reject === undefined) return;
    this.resolve = this.reject = undefined;
    try {
      Attempt.hostOf(this.attempt).settleRacedSuccess(this.attempt);
    } catch (error) {
      reject(error);
      return;
    }
    resolve(value);
  }

  /** Its function failed with `error`: the caller's promise takes what the pool's one classifier and settle make of it. */
  fail(error: unknown): void {
    const { resolve, reject } = this;
    if (resolve === undefined || reject === undefined) return;
    this.resolve = this.reject = undefined;
    failInto(this.attempt, error, resolve, reject);
  }

  /**
   * Ended before its function settled (timeout, caller, lost hedge, `destroy()`), or the chain gave no
   * promise: the caller's promise is taken from the function at once, and fails a tick later through the
   * pool's classifier and settle, as a rejected promise of the function would.
   */
  failLater(error: unknown): void {
    const { resolve, reject } = this;
    if (resolve === undefined || reject === undefined) return;
    this.resolve = this.reject = undefined;
    const attempt = this.attempt;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by fail()
    Promise.reject(error).then(undefined, (thrown: unknown) => failInto(attempt, thrown, resolve, reject));
  }

  /**
   * Deadline queue: the timeout passed, a failure of the client (a black hole must reach its breaker); or
   * the call's deadline did. That is the client's failure when the attempt had more than half the longest
   * time any attempt of the call could have (its own timeout, or the whole deadline if shorter): a client
   * that never answers must reach its breaker even when deadlines are all that bound it. An attempt the
   * deadline left less (a late retry or hedge) was cut short: a cancellation, no verdict on its client.
   */
  expire(): void {
    const attempt = this.attempt;
    const client = attempt.member === undefined ? undefined : attempt.clientName;
    if (this.deadlineGivenMs >= 0) {
      const plan = attempt.plan;
      const error = new DeadlineExceededError(plan.deadline!, client);
      const longest = Math.min(plan.timeout ?? Number.POSITIVE_INFINITY, plan.deadline!);
      attempt.end(this.deadlineGivenMs > longest / 2 ? 'failure' : 'cancelled', error, error);
      return;
    }
    const error = new TimeoutError(attempt.plan.timeout!, client);
    attempt.end('failure', error, error);
  }

  /**
   * Start its timer: the attempt's timeout, or what is left of the call's deadline when that is sooner
   * (the clock is read only for a call with a deadline). A deadline already past ends the attempt at once.
   */
  arm(host: { readonly deadlines: DeadlineQueue }): void {
    const plan = this.attempt.plan;
    const timeout = plan.timeout;
    const deadlineAt = plan.deadlineAt;
    if (deadlineAt === undefined) {
      if (timeout !== undefined) host.deadlines.add(this, timeout);
      return;
    }
    // Whole ms, so that deadlines share the queue's per-delay lists (at most one per ms of the deadline).
    const left = Math.ceil(deadlineAt - host.deadlines.now());
    if (timeout !== undefined && timeout <= left) {
      host.deadlines.add(this, timeout);
      return;
    }
    this.deadlineGivenMs = Math.max(0, left);
    if (left > 0) {
      host.deadlines.add(this, left);
      return;
    }
    // Past the deadline before its function could start (a wait ended at the deadline tick): no verdict.
    const error = new DeadlineExceededError(plan.deadline!, this.attempt.clientName);
    this.attempt.end('cancelled', error, error);
  }

  /** Caller signal watch: the caller aborted. */
  aborted(reason: unknown): void {
    this.attempt.end('cancelled', new AbortedError(reason), reason);
  }
}

/** What few attempts need (an ending, a signal, values, a wait, ...): one object, made on first need. */
interface Rare<T> {
  ending: Ending | undefined;
  controller: AbortController | undefined;
  values: Map<CallKey<unknown>, unknown> | undefined;
  wait: WaitWatch | undefined;
  outcome: Outcome | undefined;
  trackPrev: Attempt<T> | undefined;
  trackNext: Attempt<T> | undefined;
  /** What it took of the limits once `settle()` corrected its cost: undefined while that is its plan's cost. */
  charged?: Cost;
}

/**
 * One wait of an attempt (for a token, for a client): its own signal, aborted by whichever of its sources
 * aborts first (the pool closing, its call being over, the caller). It joins each source through the
 * pool's watch of it, O(1), so that 40 000 waits behind a limit add no listener each to one signal
 * (Node's EventTarget walks its listeners on every add and remove: quadratic).
 */
class WaitWatch extends TimedWatcher {
  readonly controller = new AbortController();
  /** Its places on the watches of the call's and the caller's signals (it is itself on the pool's). */
  readonly others: SourceWatch[] = [];

  /** Waits have no deadline of their own here (the limiters bound them). */
  override expire(): void {}

  override aborted(reason: unknown): void {
    this.controller.abort(reason);
  }

  leave(): void {
    SignalWatch.leave(this);
    for (const other of this.others) SignalWatch.leave(other);
  }
}

/** A wait's place on the watch of one more of its sources. */
class SourceWatch extends TimedWatcher {
  readonly #wait: WaitWatch;

  constructor(wait: WaitWatch) {
    super();
    this.#wait = wait;
  }

  override expire(): void {}

  override aborted(reason: unknown): void {
    this.#wait.controller.abort(reason);
  }
}

/**
 * One attempt of a call, from the moment it asks for a token to its outcome. It is also the `Call` that
 * middleware and the user's function see (one object, no copies), with the client filled in once one is
 * picked. Its `signal` is created only when read: a function that ignores it costs no `AbortController`.
 */
export class Attempt<T> implements Call<T> {
  readonly method: string;
  /** Its number in its call: 1 for the first, then 2, 3... for retries and hedges. */
  readonly attempt: number;
  readonly options: RunOptions<T>;
  readonly fn: CallFunction<T, unknown>;
  /** Private: its end reads it after the user's function, which is given the attempt itself, ran. */
  readonly #host: AttemptHost<T>;
  readonly plan: Plan<T>;
  readonly group: AttemptGroup<T> | undefined;
  /** Set when something other than `destroy()` may end it early: a timeout, the caller's signal, a hedge. */
  readonly race: RaceState<T> | undefined;
  member: Member<T> | undefined;
  /** Pool clock time it started, when `isTimed`. (0 until then, not NaN: a double would be boxed per attempt.) */
  start = 0;
  /**
   * State (waiting, running, ended), flags, admission and kind in one small integer, and what
   * few attempts need in one object made on demand (a retry's outcome, tracking links, a signal, an
   * ending): fewer fields to allocate and write per call.
   */
  #bits: number;
  #rare: Rare<T> | undefined;
  /**
   * Its member's epoch when it was bound (`destroy()` releases untracked attempts of older epochs), or
   * -1 while it is tracked: in the pool's list of attempts `destroy()` ends one by one.
   */
  epoch = 0;
  /**
   * The first attempt of a call with retries (no hedge) whose every failure reaches the pick stage: the
   * stage hands the failure to the retries (`StageContext.rejected`), and until then there is no retry
   * machinery and no promise more than a plain call's (`CallAttempts.after`). A field, not rare state:
   * every such call sets it, and a rare object made per call would cost it more than the field costs others.
   */
  retryAfterFailure: RetryPolicy | undefined = undefined;

  constructor(
    host: AttemptHost<T>,
    fn: CallFunction<T, unknown>,
    options: RunOptions<T>,
    method: string,
    plan: Plan<T>,
    attempt: number,
    kind: AttemptKind,
    group: AttemptGroup<T> | undefined,
    isRaced: boolean,
  ) {
    this.#host = host;
    this.fn = fn;
    this.options = options;
    this.method = method;
    this.plan = plan;
    this.attempt = attempt;
    // Waiting, with the kind at KIND_SHIFT.
    this.#bits = kind === 'first' ? 0 : (kind === 'retry' ? 1 : kind === 'hedge' ? 2 : 3) << 6;
    this.group = group;
    this.race = isRaced ? new RaceState(this) : undefined;
  }

  /**
   * Whether an attempt of a call with `plan` and `options` can be ended early, so that it needs a race (its
   * constructor's `isRaced`): a timeout, a deadline, a hedge, or the caller's signal. Asked by the caller,
   * which often knows the answer (a plain call's attempt is never raced) without reading the plan.
   */
  static mayEndEarly<T>(plan: Plan<T>, options: RunOptions<T>, isHedged: boolean): boolean {
    return plan.timeout !== undefined || plan.deadlineAt !== undefined || isHedged || (options !== EMPTY_OPTIONS && options.signal !== undefined);
  }

  /** Its pool (the pool core), read from its private field: never from a property its function could write. */
  static hostOf<T>(attempt: Attempt<T>): AttemptHost<T> {
    return attempt.#host;
  }

  /** Whether `value` is an attempt itself (not a copy, a Proxy, or an object made from one). */
  static isAttempt(value: unknown): boolean {
    return typeof value === 'object' && value !== null && #bits in value;
  }

  get kind(): AttemptKind {
    return KINDS[(this.#bits & KIND_MASK) >>> KIND_SHIFT]!;
  }

  /** How its breaker admitted it: a normal call, or a half-open probe. */
  get admission(): Exclude<Admission, false> {
    return (this.#bits & PROBE) === 0 ? 'call' : 'probe';
  }

  /**
   * Its rare state, made on first use. Static, as every helper of this class: an instance method that is
   * private would give every attempt a brand slot more (8 bytes, and a store per call).
   */
  static #rareOf<T>(attempt: Attempt<T>): Rare<T> {
    return (attempt.#rare ??= { ending: undefined, controller: undefined, values: undefined, wait: undefined, outcome: undefined, trackPrev: undefined, trackNext: undefined });
  }

  /** How it ended, once settled, for an attempt whose call may retry or hedge (`keepsOutcome`): what retries read. */
  get outcome(): Outcome | undefined {
    return this.#rare?.outcome;
  }

  set outcome(value: Outcome | undefined) {
    Attempt.#rareOf(this).outcome = value;
  }

  /**
   * Whether it is the one attempt in flight of its call, with no race, that reached its function and is
   * not timed: a plain call's, or the first of a call with retries (whose success needs no outcome kept:
   * retries read it only after a failure). Its success settles with no more than the counters and the breaker.
   */
  get isPlainRun(): boolean {
    return this.race === undefined && this.group === undefined && (this.#bits & (TIMED | INVOKED)) === INVOKED;
  }

  /** `isPlainRun`, raced or not. */
  get isSoleRun(): boolean {
    return this.group === undefined && (this.#bits & (TIMED | INVOKED)) === INVOKED;
  }

  /** Whether its outcome is kept when it settles: an attempt of a call with retries or hedges. */
  get keepsOutcome(): boolean {
    return this.group !== undefined || (this.#bits & RETRIED) !== 0;
  }

  /** The first attempt of a call with retries, run plain: its outcome is kept for them. */
  markRetried(): void {
    this.#bits |= RETRIED;
  }

  /** Its neighbours in the pool's list of tracked attempts: on its race, which every raced attempt has, else made on demand. */
  get trackPrev(): Attempt<T> | undefined {
    return this.race === undefined ? this.#rare?.trackPrev : this.race.trackPrev;
  }

  set trackPrev(value: Attempt<T> | undefined) {
    if (this.race !== undefined) this.race.trackPrev = value;
    else if (value !== undefined || this.#rare !== undefined) Attempt.#rareOf(this).trackPrev = value;
  }

  get trackNext(): Attempt<T> | undefined {
    return this.race === undefined ? this.#rare?.trackNext : this.race.trackNext;
  }

  set trackNext(value: Attempt<T> | undefined) {
    if (this.race !== undefined) this.race.trackNext = value;
    else if (value !== undefined || this.#rare !== undefined) Attempt.#rareOf(this).trackNext = value;
  }

  /** The chosen client (undefined until one is picked). */
  get client(): T {
    return this.member?.client as T;
  }

  /** Its name in the pool ('' until one is picked). */
  get clientName(): string {
    return this.member === undefined ? '' : this.member.name;
  }

  /** Whether the attempt is timed (its `start` is set). */
  get isTimed(): boolean {
    return (this.#bits & TIMED) !== 0;
  }

  /** Start timing it now. */
  startTimer(now: number): void {
    this.start = now;
    this.#bits |= TIMED;
  }

  /** Whether something made it wait (a token, a client): the call may be over when it resumes. */
  get hasWaited(): boolean {
    // WAITED, as a literal: the pick stage tests it for every attempt that is not in its lane.
    return (this.#bits & 8) !== 0;
  }

  /**
   * The signal a wait of this attempt (for a token, for a client) ends with: the pool closing, its call
   * being over (a hedge won), or the caller's abort, whichever comes first. Made on its first wait, and
   * let go with `doneWaiting()`. (Not `AbortSignal.any`: on Node 20 it keeps every combined signal on its
   * sources for their whole life.)
   */
  waitSignal(): AbortSignal {
    this.#bits |= WAITED;
    const rare = Attempt.#rareOf(this);
    if (rare.wait !== undefined) return rare.wait.controller.signal;
    const wait = (rare.wait = new WaitWatch());
    const signals = this.#host.signals;
    // The pool's reason first: closing wins over the caller when both have aborted.
    signals.join(this.#host.closingSignal, wait);
    const call = this.group?.waitSignal;
    if (call !== undefined && !wait.controller.signal.aborted) joinAlso(this.#host.signals, call, wait);
    const caller = this.options.signal;
    if (caller !== undefined && !wait.controller.signal.aborted) joinAlso(this.#host.signals, caller, wait);
    return wait.controller.signal;
  }


  /** A wait ended: it leaves the watches of its sources. */
  doneWaiting(): void {
    const wait = this.#rare?.wait;
    if (wait === undefined) return;
    this.#rare!.wait = undefined;
    wait.leave();
  }

  /** The pool gave up a wait (overdue): it ends, and its signal aborts with `reason`, so that its limiter drops it. */
  giveUpWaiting(reason: unknown): void {
    const wait = this.#rare?.wait;
    this.doneWaiting();
    wait?.controller.abort(reason);
  }

  /** Whether the chain reached the user's function. */
  get isInvoked(): boolean {
    return (this.#bits & INVOKED) !== 0;
  }

  /** How the pool ended it, if it did: `failure` (timeout, outrun) or `cancelled`. */
  get endKind(): 'failure' | 'cancelled' | undefined {
    return this.#rare?.ending?.kind;
  }

  get endError(): ClientPoolError | undefined {
    return this.#rare?.ending?.error;
  }

  /**
   * Aborted when the attempt is ended by a timeout, the caller, a lost hedge or `destroy()`; never after
   * success. Its own, made when first read: a signal shared between attempts would outlive them (Node 20's
   * `AbortSignal.any` keeps every signal made from it) and abort after they succeeded.
   */
  get signal(): AbortSignal {
    const rare = Attempt.#rareOf(this);
    if (rare.controller !== undefined) return rare.controller.signal;
    const controller = (rare.controller = new AbortController());
    const destroyed = this.#host.destroyError;
    if (rare.ending !== undefined) controller.abort(rare.ending.reason);
    else if (destroyed !== undefined) controller.abort(destroyed);
    // A plain attempt is released by count at destroy(): one whose signal is read is ended one by one.
    else if ((this.#bits & STATE) === RUNNING && this.epoch !== -1) this.#host.track(this);
    return controller.signal;
  }

  /** Whether its signal was made (read): `destroy()` must then end it one by one. */
  get hasSignal(): boolean {
    return this.#rare?.controller !== undefined;
  }

  get isEnded(): boolean {
    return (this.#bits & STATE) === ENDED;
  }

  /** A client was picked and admitted: the attempt now holds it until `markEnded()`. */
  bind(member: Member<T>, admission: Exclude<Admission, false>): void {
    this.member = member;
    // Out of STATE and PROBE: RUNNING, and PROBE for a probe.
    this.#bits = (this.#bits & ~35) | (admission === 'call' ? 1 : 33);
    this.epoch = member.epoch;
  }

  /** Called by the pool's settle, once: returns false when it had ended already. */
  markEnded(): boolean {
    // STATE is ENDED: false; else it becomes ENDED.
    if ((this.#bits & 3) === 2) return false;
    this.#bits = (this.#bits & ~3) | 2;
    return true;
  }

  /**
   * End the attempt before its function settled: a failure of its client (timeout) or a cancellation.
   * Its signal aborts with `abortReason`; the caller gets `error`. No effect once ended.
   */
  end(kind: 'failure' | 'cancelled', error: ClientPoolError, abortReason: unknown): void {
    const state = this.#bits & STATE;
    const rare = Attempt.#rareOf(this);
    if (state === ENDED || rare.ending !== undefined) return;
    rare.ending = { kind, error, reason: abortReason };
    rare.controller?.abort(abortReason);
    const race = this.race;
    if (race !== undefined && race.isArmed) race.failLater(error);
    else if (state === RUNNING) this.#host.release(this);
  }

  /**
   * The longest its next wait for a token or a client may last, in ms: `maxWait`, or what is left of the
   * call's deadline when that is less (the clock is read only for a call with a deadline).
   */
  maxWait(clock: { now(): number }): number {
    const plan = this.plan;
    if (plan.deadlineAt === undefined) return plan.maxWait;
    const left = Math.max(0, Math.ceil(plan.deadlineAt - clock.now()));
    if (left >= plan.maxWait) {
      this.#bits &= ~WAIT_CUT;
      return plan.maxWait;
    }
    this.#bits |= WAIT_CUT;
    return left;
  }

  /** Whether its last wait was bounded by the call's deadline: a limiter gets no grace past it. */
  get isWaitCut(): boolean {
    return (this.#bits & WAIT_CUT) !== 0;
  }

  /**
   * What a wait's failure means for the call: a refusal for want of a token or a client by a wait the
   * call's deadline cut short is the deadline passing (`DeadlineExceededError`, the refusal its `cause`).
   */
  waitFailure(error: unknown): unknown {
    if ((this.#bits & WAIT_CUT) === 0 || !(hasErrorCode(error, 'ERR_RATE_LIMITED') || hasErrorCode(error, 'ERR_CONCURRENCY_LIMITED') || hasErrorCode(error, 'ERR_ALL_CIRCUITS_OPEN') || hasErrorCode(error, 'ERR_HEIGHT_NOT_REACHED'))) return error;
    return new DeadlineExceededError(this.plan.deadline!, undefined, error);
  }

  /**
   * The pool's own reason behind the abort that ended one of this attempt's waits (the pool closing, its
   * call over because a hedge won), so that it surfaces as itself; undefined for any other error, the
   * caller's abort included, whatever its reason is (a nested pool's `TimeoutError` stays an abort).
   */
  poolReasonOf(error: unknown): ClientPoolError | undefined {
    if (!hasErrorCode(error, 'ERR_ABORTED')) return undefined;
    const cause: unknown = error.cause;
    if (cause === undefined) return undefined;
    if (cause === this.#host.closingSignal.reason || cause === this.group?.waitSignal.reason) return cause as ClientPoolError;
    return undefined;
  }

  /**
   * Throw if the call is over while this attempt waited (the caller aborted, a hedge won, it was ended,
   * its deadline passed: the clock is read only for a call with a deadline).
   */
  checkStillWanted(clock: { now(): number }): void {
    const ending = this.#rare?.ending;
    if (ending !== undefined) throw ending.error;
    const signal = this.options.signal;
    if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
    if (this.group?.isDone === true) throw LOST_RACE;
    const { deadline, deadlineAt } = this.plan;
    if (deadlineAt !== undefined && clock.now() >= deadlineAt) throw new DeadlineExceededError(deadline!);
  }

  /** Call the user's function: once. */
  invoke(): unknown {
    this.#bits |= 16; // INVOKED
    return this.fn(this.member!.client, this);
  }

  /*
   * A held attempt's handlers of its function's promise, bound to it per call (`bind`). A closure made per
   * call runs V8's lazy-compile stub on its first call (`CompileLazy`, about 60 instructions, once per
   * closure); a bound method calls code compiled already, and two bound functions are smaller than two
   * closures and the context they would share. Methods, not module functions: a bundler that keeps
   * function names (esbuild's `keepNames`, tsx) redefines a function's `name`, which sends V8's `bind`
   * down its slow path (about 40 times slower); it leaves methods' names alone.
   */

  /** Its function's promise fulfilled: settled as a success (`AttemptHost.settleSuccess`), `value` passed on. */
  heldSucceeded(value: unknown): unknown {
    this.#host.settleSuccess(this);
    return value;
  }

  /** `heldSucceeded` for an attempt of the pick stage's lane: a normal call (admitted as `'call'`), which its settle folds. */
  laneSucceeded(value: unknown): unknown {
    this.#host.settleLaneSuccess(this, 'call');
    return value;
  }

  /** Its function's promise rejected: classified and settled (`AttemptHost.fail`). */
  heldFailed(error: unknown): Promise<unknown> {
    return this.#host.fail(this, error);
  }

  pauseClient(ms: number): void {
    if (this.member !== undefined) this.#host.pause(this.member, ms);
  }

  reportHeight(height: number | bigint): void {
    if (this.member !== undefined) this.#host.reportHeight(this.member, height);
  }

  /** What it took of the limits: its plan's cost, as `settle()` corrected it. */
  get charged(): Cost {
    return this.#rare?.charged ?? this.plan.cost;
  }

  settle(actual: Cost): void {
    const cost = costOption('settle', actual, false);
    // Before a client held it, the attempt took nothing it could settle.
    if (this.member === undefined) return;
    const state = Attempt.#rareOf(this);
    const charged = state.charged ?? this.plan.cost;
    this.#host.settleCost(this.member, cost, charged);
    state.charged = Object.assign(emptyCost(), charged, cost);
  }

  get<V>(key: CallKey<V>): V | undefined {
    return this.#rare?.values?.get(key) as V | undefined;
  }

  set<V>(key: CallKey<V>, value: V): void {
    (Attempt.#rareOf(this).values ??= new Map()).set(key, value);
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

/** A wait joins one more source (its call's, the caller's signal) through the pool's watch of it. */
function joinAlso(signals: SignalWatches, signal: AbortSignal, wait: WaitWatch): void {
  const source = new SourceWatch(wait);
  wait.others.push(source);
  signals.join(signal, source);
}

/** `attempt` failed with `error`: its caller's promise (`resolve`, `reject`) takes the classified error, or the retries' promise. */
function failInto<T>(attempt: Attempt<T>, error: unknown, resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  try {
    resolve(Attempt.hostOf(attempt).fail(attempt, error));
  } catch (thrown) {
    reject(thrown);
  }
}

