import { allowManyListeners } from '../util/host.js';
import { heightValue } from '../freshness/freshness-options.js';
import { HeightTracker, type FreshnessChange, type HeightRules } from '../freshness/height-tracker.js';
import { FleetBridge } from '../fleet/fleet-bridge.js';
import type { Admission, CircuitState } from '../breaker/breaker.js';
import { EMPTY_OPTIONS, type CallFunction, type RunOptions } from '../call.js';
import type { Clock } from '../clock.js';
import { attemptEndChannel, circuitChannel, rateLimitChannel, type AttemptEndMessage, type CircuitMessage, type RateLimitMessage } from '../diagnostics/channels.js';
import { AbortedError, ClientPanicError, PoolClosedError, type ClientPoolError } from '../errors.js';
import type { Emitter } from '../events.js';
import type { ClientQueue } from '../limit/client-queue.js';
import type { Cost } from '../limit/cost.js';
import type { Quota } from '../limit/quota.js';
import type { Member } from '../member.js';
import type { Middleware } from '../middleware/middleware.js';
import type { ClientPool } from '../pool.js';
import type { HealthChange, RateLimitEvent, StateChange } from '../pool-events.js';
import type { Random } from '../random.js';
import { CallAttempts, type AttemptsHost } from '../resilience/call-attempts.js';
import { HedgeDelays } from '../resilience/hedge-delay.js';
import type { HedgePolicy } from '../resilience/hedge-policy.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { Roster } from '../roster.js';
import { duration } from '../validate.js';
import { Attempt, type AttemptHost, type Plan } from './attempt.js';
import { CallEnds, type SourceRecord } from './call-end.js';
import type { CallPlanner, CheckedCall } from './call-planner.js';
import { CallCache, runCached } from './call-cache.js';
import { Coalescer } from './coalesce.js';
import { classify } from './classify.js';
import type { StageContext } from './context.js';
import { DeadlineQueue } from './deadlines.js';
import { CallbackGuard } from './guard.js';
import { ended, SUCCESS, type Outcome } from './outcome.js';
import { SignalWatch, SignalWatches } from './signal-watch.js';
import { HeldCalls } from './held-calls.js';
import type { Step } from './stage.js';

/** An attempt's links in the pool's list of tracked attempts. */
interface TrackLinks<T> {
  trackPrev: Attempt<T> | undefined;
  trackNext: Attempt<T> | undefined;
}

/** What the core is made of: the pool's parts, built by the pool from its options. */
export interface PoolParts<T> {
  /** The pool itself, as diagnostics_channel messages name it. */
  readonly pool: ClientPool<T>;
  readonly clock: Clock;
  readonly random: Random;
  readonly roster: Roster<T>;
  readonly queue: ClientQueue<T>;
  readonly limit: Quota | undefined;
  readonly isFailure: (error: unknown) => boolean;
  readonly budget: RetryBudget | undefined;
  readonly stateChanges: Emitter<StateChange>;
  readonly rateLimits: Emitter<RateLimitEvent>;
  /** Reports user callbacks that throw, once per name. */
  readonly guard: CallbackGuard;
  /** Results the `cache` run option keeps at most (least recently used dropped first). */
  readonly cacheSize: number;
  /** How far a client's height may drift from the head (the `freshness` option). */
  readonly heightRules: HeightRules;
  readonly freshnessChanges: Emitter<FreshnessChange>;
  /** The `fleet` option, and the emitter a health change it applies is reported on. */
  readonly fleet: unknown;
  readonly healthChanges: Emitter<HealthChange>;
}

/**
 * The state every stage, attempt and retry shares, with the one classifier and the one settle. The pool
 * is the facade; this is what its pipeline runs on.
 */
export class PoolCore<T> implements StageContext<T>, AttemptHost<T>, AttemptsHost<T> {
  readonly clock: Clock;
  readonly random: Random;
  readonly roster: Roster<T>;
  readonly queue: ClientQueue<T>;
  readonly limit: Quota | undefined;
  readonly budget: RetryBudget | undefined;
  readonly deadlines: DeadlineQueue;
  readonly signals = new SignalWatches();
  /** Calls in their around hooks before `next()`: ended by their caller's abort and by `close()`. */
  readonly held: HeldCalls;
  readonly guard: CallbackGuard;
  readonly hedgeDelays = new HedgeDelays();
  readonly sleeping = new Set<CallAttempts<T>>();
  /** Every client's height and the pool's head. */
  readonly heights: HeightTracker<T>;
  /** The pool's fleet link (docs/fleet.md), told of transitions and pauses here. */
  readonly fleet: FleetBridge<T> | undefined;
  /** Middleware with an `onOutcome` hook. */
  #observers: readonly Middleware<T>[] = [];
  /** 1 while there is any, else 0: what each call tests, a small integer (no array and length read). */
  #observed = 0;
  /** Calls sharing a journey by `coalesce` key; made on the first such call. */
  #coalescer: Coalescer<T> | undefined;
  /** Results of coalesced calls with a `cache` option; made on the first such call. */
  #cache: CallCache | undefined;
  readonly #cacheSize: number;
  /** What tells middleware with an `onCallEnd` hook how each call ended; undefined while there is none. */
  callEnds: CallEnds<T> | undefined;
  isClosing = false;
  /** The pipeline for attempts that can be ended early; set by the pool when it composes. */
  racedChain!: Step<T>;
  /**
   * Whether the pick stage comes first in the pipeline (no pool-wide limit, no `minHeight` stage): then
   * every failure of an attempt goes through it, and a first attempt's failure can go straight to its
   * retries (`CallAttempts.after`). Set by the pool when it composes.
   */
  isPickFirst = true;
  readonly pool: ClientPool<T>;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #stateChanges: Emitter<StateChange>;
  readonly #rateLimits: Emitter<RateLimitEvent>;
  /** Aborted by `destroy()`: the signal of attempts nothing else can end. */
  readonly #destroyed = new AbortController();
  /** Aborted when the pool starts closing: ends every wait for a token or a client. */
  readonly #closing = new AbortController();
  #destroyError: ClientPoolError | undefined;
  /** What close() was called with: destroy()'s error when destroy() was first to close. */
  #closeError: ClientPoolError | undefined;
  /** Attempts in flight tracked one by one, for `destroy()`. */
  #tracked: Attempt<T> | undefined;

  constructor(parts: PoolParts<T>) {
    this.pool = parts.pool;
    this.clock = parts.clock;
    this.guard = parts.guard;
    this.#cacheSize = parts.cacheSize;
    // Shared by the waits of a pool (closing) and its removals (destroyed): no MaxListenersExceededWarning.
    allowManyListeners(this.#destroyed.signal, this.#closing.signal);
    this.signals.keep(this.#closing.signal);
    this.deadlines = new DeadlineQueue(parts.clock);
    this.held = new HeldCalls(this.signals, this.deadlines);
    this.random = parts.random;
    this.roster = parts.roster;
    this.queue = parts.queue;
    this.limit = parts.limit;
    if (parts.limit !== undefined) parts.limit.warn = (what, error) => this.guard.warn(what, error);
    this.budget = parts.budget;
    this.#isFailure = parts.isFailure;
    this.#stateChanges = parts.stateChanges;
    this.#rateLimits = parts.rateLimits;
    const changes = parts.freshnessChanges;
    this.heights = new HeightTracker(parts.heightRules, parts.roster, this.deadlines, this.signals, (change) => {
      if (changes.hasListeners) changes.emit(change);
    });
    this.fleet = FleetBridge.of(parts.fleet, { roster: parts.roster, core: this, healthChanges: parts.healthChanges, warn: (what, error) => this.guard.warn(what, error) });
  }

  get isTimed(): boolean {
    return this.roster.isTimed;
  }

  get poolSignal(): AbortSignal {
    return this.#destroyed.signal;
  }

  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** The pool has closed: no timer or immediate of the pipeline is left. */
  clearTimers(): void {
    // Calls past `next()` whose hooks hang keep their deadline: the caller still goes (see HeldCall).
    this.deadlines.clear(this.held.inside);
    this.signals.sweep();
  }

  /** The pool starts closing: no new attempt takes a client, and every wait ends with `error`. */
  close(error: ClientPoolError = new PoolClosedError()): void {
    if (this.isClosing) return;
    this.isClosing = true;
    this.#closeError = error;
    this.roster.closeLane();
    this.#closing.abort(error);
    this.held.end(error);
  }

  now(): number {
    return this.clock.now();
  }

  /** What a call the closing pool refuses gets: destroy()'s error once destroyed, else the one it closed with. */
  closedError(): ClientPoolError {
    return this.#destroyError ?? this.#closeError ?? new PoolClosedError();
  }

  get destroyError(): ClientPoolError | undefined {
    return this.#destroyError;
  }

  /**
   * Take the hooks of the pool's `middleware` (after `use()`): `onOutcome` per attempt, `onCallEnd` per call.
   * @returns whether attempts must be timed: an `onOutcome` hook declares it reads their duration
   *   (`onOutcome(call, outcome, ms)`: three parameters).
   */
  observe(middleware: readonly Middleware<T>[]): boolean {
    this.#observers = middleware.filter((m) => typeof m.onOutcome === 'function');
    this.#observed = this.#observers.length === 0 ? 0 : 1;
    const callObservers = middleware.filter((m) => typeof m.onCallEnd === 'function');
    this.callEnds = callObservers.length === 0 ? undefined : new CallEnds(callObservers, this.clock, this.guard);
    return this.observers.some((m) => m.onOutcome!.length >= 3);
  }

  /**
   * Run a call with a `coalesce` key, `checked` (its plan and `cache`, never read again): it joins the
   * call in flight with that key, or starts it with `start`, given what the flight's call runs on. With
   * `cache`, a result younger than `ttl` is served without a call, and one younger than `staleIfError`
   * stands in for a failure (`onStale` told).
   * @throws PoolClosedError, AbortedError: a getter read by the check closed the pool or aborted the call
   */
  coalesce(options: RunOptions<T>, checked: CheckedCall<T>, start: (shared: RunOptions<T>, checked: CheckedCall<T>) => Promise<unknown>, answer?: SourceRecord): Promise<unknown> {
    // A getter read by its check may have closed the pool or aborted the call: refused before it joins.
    if (this.isClosing) throw this.closedError();
    const signal = options.signal;
    if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
    const coalescer = (this.#coalescer ??= new Coalescer<T>(this.signals));
    const begin = (shared: RunOptions<T>): Promise<unknown> => start(shared, checked);
    if (checked.cache === undefined) return coalescer.run(options, begin, answer);
    // Ages on the deadline queue's clock, which never goes back: a clock stepped back cannot make a result younger.
    return runCached((this.#cache ??= new CallCache(this.#cacheSize)), options, checked.cache, (stored) => coalescer.run(options, stored, answer), begin, this.deadlines, this.guard, answer);
  }

  /** Middleware with an `onOutcome` hook. */
  get observers(): readonly Middleware<T>[] {
    return this.#observers;
  }

  get tracksPlain(): boolean {
    return this.#observed !== 0;
  }

  track(attempt: Attempt<T>): void {
    attempt.epoch = -1;
    attempt.member!.tracked++;
    (attempt.race ?? attempt).trackNext = this.#tracked;
    if (this.#tracked !== undefined) this.#tracked.trackPrev = attempt;
    this.#tracked = attempt;
  }

  /** Take `attempt` out of the tracked list; `links` are where its own links are: its race, when it has one (read directly, no getter). */
  #untrack(attempt: Attempt<T>, links: TrackLinks<T>): void {
    attempt.member!.tracked--;
    const { trackPrev: prev, trackNext: next } = links;
    if (prev === undefined) this.#tracked = next;
    else prev.trackNext = next;
    if (next !== undefined) next.trackPrev = prev;
    links.trackPrev = links.trackNext = undefined;
  }

  /**
   * End every attempt in flight: tracked ones one by one (their callers get `error`, observers hear of
   * each), the rest through the pool's signal and by count: each member's untracked attempts are
   * released at once, so every drain completes, and their late ends change nothing.
   */
  destroy(error: ClientPoolError, members: Iterable<Member<T>>): void {
    if (this.#destroyError !== undefined) return;
    this.#destroyError = error;
    this.#destroyed.abort(error);
    for (let attempt = this.#tracked; attempt !== undefined; ) {
      const next = attempt.trackNext;
      attempt.end('cancelled', error, error);
      attempt = next;
    }
    for (const member of members) {
      const count = member.inFlight - member.tracked;
      if (count <= 0) continue;
      member.epoch++;
      member.cancelled += count;
      this.roster.inFlight(member, -count);
      if (member.drained !== undefined && member.inFlight === 0) member.drained();
    }
  }

  reportLimit(scope: 'pool' | 'client', client: string | undefined, method: string, since: number, rejected: boolean): void {
    const isHeard = this.#rateLimits.hasListeners;
    if (!isHeard && !rateLimitChannel.hasSubscribers) return;
    const waitedMs = Math.max(0, this.clock.now() - since);
    if (isHeard) this.#rateLimits.emit({ scope, client, method, waitedMs, rejected });
    if (rateLimitChannel.hasSubscribers) rateLimitChannel.publish({ pool: this.pool, scope, client, method, waitedMs, rejected } satisfies RateLimitMessage<T>);
  }

  /** A client's circuit changed state: `onStateChange` listeners and the `clientpool:circuit` channel hear of it. */
  reportTransition(client: string, from: CircuitState, to: CircuitState): void {
    this.fleet?.transition(client, from, to);
    const isHeard = this.#stateChanges.hasListeners;
    if (!isHeard && !circuitChannel.hasSubscribers) return;
    const at = this.clock.now();
    if (isHeard) this.#stateChanges.emit({ client, from, to, at });
    if (circuitChannel.hasSubscribers) circuitChannel.publish({ pool: this.pool, client, from, to, at } satisfies CircuitMessage<T>);
  }

  fail(attempt: Attempt<T>, error: unknown): Promise<unknown> {
    const outcome = this.classify(attempt, error);
    this.settle(attempt, outcome);
    // Thrown, not returned rejected: the caller's promise settles a tick sooner, as it always has.
    if (attempt.retryAfterFailure === undefined) throw (outcome as { error: Error }).error;
    return this.rejected(attempt, (outcome as { error: Error }).error);
  }

  rejected(attempt: Attempt<T>, error: unknown): Promise<unknown> {
    const retry = attempt.retryAfterFailure;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- clientpool errors, typed where they are made
    if (retry === undefined) return Promise.reject(error);
    attempt.retryAfterFailure = undefined;
    return CallAttempts.resume(this, attempt, retry, error as Error);
  }

  classify(attempt: Attempt<T>, error: unknown): Outcome {
    try {
      return classify(attempt, error, this.#isFailure, this.guard);
    } catch (thrown) {
      // Only a hostile value gets here (a forged error whose every read throws): a failure all the same.
      this.guard.warn('classifying an error', thrown);
      return ended('failure', new ClientPanicError(error, attempt.clientName, attempt.method));
    }
  }

  /**
   * The one settle of an attempt that held a client: counters, latency, the breaker, observers, then the
   * `clientpool:attempt:end` channel, in that order, exactly once, whatever ended it (its function, a
   * timeout, a cancellation, `destroy()`).
   */
  settle(attempt: Attempt<T>, outcome: Outcome): void {
    if (!attempt.markEnded()) return;
    if (attempt.keepsOutcome) attempt.outcome = outcome;
    const race = attempt.race;
    if (race !== undefined) {
      if (race.deadlineList !== undefined) this.deadlines.remove(race);
      if (race.watched !== undefined) SignalWatch.leave(race);
    }
    const member = attempt.member!;
    // A middleware answered without calling the client (a cache hit): the caller has a value, the
    // client no verdict (a half-open circuit must not close on it, nor a latency look this fast).
    const kind = outcome.kind === 'success' && !attempt.isInvoked ? 'refused' : outcome.kind;
    if (attempt.epoch === -1) this.#untrack(attempt, race ?? attempt);
    // Released already by destroy(): counted then.
    else if (attempt.epoch !== member.epoch) return;
    let durationMs = Number.NaN;
    if (attempt.isTimed) {
      const now = this.clock.now();
      // Never below 0: a clock stepped back mid-attempt must not make a negative duration (or a fast client).
      durationMs = Math.max(0, now - attempt.start);
      // A fast failure must not make a broken client look fast to latency-aware balancers: each failure
      // at least doubles its estimate, so a client failing fast falls out of favour within a few calls.
      if (kind === 'success' || kind === 'answered') member.latency.observe(durationMs, now);
      else if (kind === 'failure') member.latency.observe(Math.max(durationMs, 2 * member.latency.valueAt(now), 1), now);
      if (kind === 'success' && this.hedgeDelays.isRecording) this.hedgeDelays.record(attempt.method, durationMs);
    }
    if (member.adaptive !== undefined && (kind === 'success' || kind === 'failure' || kind === 'answered')) this.#sampleConcurrency(member, kind === 'failure', durationMs);
    // Never reached its client (a shared limit or a middleware refused it, the caller left while it
    // waited): the cost it took of the pool's limits and of the client's own in-memory ones goes back.
    if ((this.limit !== undefined || member.quota !== undefined) && !attempt.isInvoked) this.giveBackCost(attempt, member);
    this.roster.inFlight(member, -1);
    this.#feedBreaker(member, attempt.admission, kind, durationMs);
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) {
      try {
        // An async hook is not waited for: its rejection is reported as a throw is.
        const result: unknown = observers[i]!.onOutcome!(attempt, outcome, durationMs);
        if (result !== undefined) this.guard.watch(`middleware "${observers[i]!.name}" onOutcome`, result);
      } catch (error) {
        this.guard.warn(`middleware "${observers[i]!.name}" onOutcome`, error);
      }
    }
    if (attemptEndChannel.hasSubscribers) attemptEndChannel.publish({ pool: this.pool, call: attempt, outcome, durationMs } satisfies AttemptEndMessage<T>);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  /**
   * `settle(attempt, SUCCESS)`, the usual end, in a method small enough for V8 to inline: for the success
   * of a plain attempt (its member's epoch: neither tracked nor released by destroy()) that nothing
   * observes, what `settle()` would do and no more: the counters and the breaker.
   */
  settleSuccess(attempt: Attempt<T>): void {
    if (!attempt.isPlainRun || attempt.member!.adaptive !== undefined) this.settle(attempt, SUCCESS);
    else this.settleLaneSuccess(attempt, attempt.admission);
  }

  /**
   * `settleSuccess` for an attempt known to be a plain run of a member with no adaptive limit: one of the
   * pick stage's lane (no race or group, untimed; an adaptive limit times every call, which closes the lane).
   * Its member is read off the attempt: a closure that kept it would make every call's bigger. Its admission
   * is passed: the lane's own caller passes the constant `'call'`, which V8 folds through the breaker's feed.
   */
  settleLaneSuccess(attempt: Attempt<T>, admission: Exclude<Admission, false>): void {
    const member = attempt.member!;
    if (attempt.epoch !== member.epoch || this.#observed !== 0 || attemptEndChannel.hasSubscribers) {
      this.settle(attempt, SUCCESS);
      return;
    }
    if (!attempt.markEnded()) return;
    this.roster.inFlight(member, -1);
    this.#feedBreaker(member, admission, 'success', Number.NaN);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  /**
   * `settle(attempt, SUCCESS)` for the one attempt of a call that could have been ended early (a timeout,
   * a caller's signal) and that nothing observes: it leaves the deadline queue, the signal's watch and the
   * tracked list, then the counters and the breaker, as `settle()` would do for it.
   */
  settleRacedSuccess(attempt: Attempt<T>): void {
    const member = attempt.member!;
    const race = attempt.race;
    if (race === undefined || !attempt.isSoleRun || attempt.epoch !== -1 || this.#observed !== 0 || member.adaptive !== undefined || attemptEndChannel.hasSubscribers) {
      this.settle(attempt, SUCCESS);
      return;
    }
    if (!attempt.markEnded()) return;
    if (race.deadlineList !== undefined) this.deadlines.remove(race);
    if (race.watched !== undefined) SignalWatch.leave(race);
    this.#untrack(attempt, race);
    this.roster.inFlight(member, -1);
    this.#feedBreaker(member, attempt.admission, 'success', Number.NaN);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  /**
   * Tell a member's adaptive limit how an attempt that reached it went (cancelled and refused ones tell
   * nothing of the client), and move its cap to what the limit now says. The in-flight count is the
   * member's as the attempt ends, itself included: what the controller needs to see whether the limit
   * was in use.
   */
  #sampleConcurrency(member: Member<T>, didDrop: boolean, rttMs: number): void {
    const adaptive = member.adaptive!;
    let limit: number;
    try {
      adaptive.onSample({ rttMs, inFlight: member.inFlight, didDrop, now: this.clock.now() });
      limit = adaptive.limit;
    } catch (error) {
      this.guard.warn('the adaptive concurrency limit', error);
      return;
    }
    if (limit !== member.maxInFlight && Number.isInteger(limit) && limit >= 1) this.roster.setMaxInFlight(member, limit);
  }

  #feedBreaker(member: Member<T>, admission: Exclude<Admission, false>, kind: Outcome['kind'], durationMs: number): void {
    const breaker = member.breaker;
    try {
      if (kind === 'success') {
        member.successes++;
        breaker.success(admission, durationMs);
      } else if (kind === 'failure') {
        member.failures++;
        breaker.failure(admission, durationMs);
      } else if (kind === 'answered') {
        member.failures++;
        breaker.success(admission, durationMs);
      } else {
        // Cancelled, or refused before reaching the client: no verdict on it.
        if (kind === 'refused') member.refused++;
        else member.cancelled++;
        breaker.release(admission);
      }
    } catch (error) {
      this.guard.warn('the breaker', error);
    }
    if (breaker.state !== member.lastState || admission === 'probe' || member.placement === 'saturated') this.roster.afterBreaker(member);
  }

  /** A plain attempt ended by `destroy()`: no race to reject, so settle it here. */
  release(attempt: Attempt<T>): void {
    this.settle(attempt, ended(attempt.endKind ?? 'cancelled', attempt.endError!));
  }

  /** `call.pauseClient(ms)`: the upstream asked for a pause (429, Retry-After). */
  pause(member: Member<T>, ms: number): void {
    duration('pauseClient', ms);
    member.quota?.pause(ms);
    this.roster.throttle(member, this.clock.now() + ms);
    this.fleet?.paused(member.name, ms);
  }

  /**
   * Give back what an attempt took of the limits when it never reached a client: the pool's (every
   * limit) and, once it held `member`, that client's in-memory ones (its shared ones were taken only if
   * its wait for them ended, which is not recorded: they keep theirs).
   */
  giveBackCost(attempt: Attempt<T>, member: Member<T> | undefined): void {
    const cost = attempt.charged;
    this.limit?.giveBack(cost, true);
    member?.quota?.giveBack(cost, false);
  }

  /** `call.settle(actual)`: the pool's limits and the client's are charged or refunded the difference. */
  settleCost(member: Member<T>, actual: Cost, charged: Cost): void {
    const warn = (what: string, error: unknown): void => this.guard.warn(what, error);
    this.limit?.settle(actual, charged, warn);
    member.quota?.settle(actual, charged, warn);
  }

  /** `call.reportHeight(n)`: the client's answer showed its height. */
  reportHeight(member: Member<T>, height: number | bigint): void {
    const value = heightValue('reportHeight', height);
    if (typeof value !== 'number') throw value;
    // An answer shows the client has reached a height; a lower one (a finalized read after a processed
    // one, a slow answer arriving late) does not show it went back: only polls set a height as it is.
    if (value > member.height) this.heights.report(member, value);
  }

  /**
   * A call with no options in a pool where nothing goes around calls (the pool's `#plainPlan`): one
   * attempt of `plan` into `chain`, the plain pipeline. It counts towards the retry budget once any call
   * can spend it (`usesBudget`).
   */
  runPlain(fn: CallFunction<T, unknown>, plan: Plan<T>, chain: Step<T>, usesBudget: boolean): Promise<unknown> {
    if (usesBudget) this.budget?.deposit();
    try {
      // Never raced: a plain plan has no timeout or deadline (`CallPlanner.plainPlan`).
      return chain(new Attempt(this, fn, EMPTY_OPTIONS, 'unknown', plan, 1, 'first', undefined, false));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a stage's error, as run() gives it
      return Promise.reject(error);
    }
  }

  /**
   * A call whose options set only a label and retries (`readWasLabelOnly`), of a method with no timeout,
   * deadline or hedge of its own: its first attempt runs on the method's plan as it is, as `runPlain`'s
   * does, entered at `chain`, with the retries made once it fails (`CallAttempts.after`). Undefined for
   * any other method: the journey resolves its plan.
   * @throws InvalidOptionError for a bad `retry` (the journey rejects with it)
   */
  runLabelled(fn: CallFunction<T, unknown>, options: RunOptions<T>, method: string, planner: CallPlanner<T>, chain: Step<T>): Promise<unknown> | undefined {
    const defaults = planner.defaultsFor(method);
    if (defaults.timeout !== undefined || defaults.deadline !== undefined || defaults.hedge !== undefined) return undefined;
    const retry = options.retry === undefined ? defaults.retry : planner.retry(options, defaults);
    // Calls count towards the budget once anything can spend it, as in the journey.
    if (retry !== undefined) planner.usesBudget = true;
    if (planner.usesBudget) this.budget?.deposit();
    const first = new Attempt(this, fn, options, method, defaults, 1, 'first', undefined, false);
    return retry === undefined ? chain(first) : CallAttempts.after(this, first, retry, chain);
  }

  start(attempt: Attempt<T>): Promise<unknown> {
    return this.racedChain(attempt);
  }

  withdraw(): boolean {
    return this.budget === undefined || this.budget.tryWithdraw();
  }

  hedgeDelay(policy: HedgePolicy, method: string): number {
    return this.hedgeDelays.delay(policy, method);
  }
}
