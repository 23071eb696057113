import type { BreakerFactory } from './breaker/breaker.js';
import { EMPTY_OPTIONS, type CallFunction, type RunOptions } from './call.js';
import { guardedClock, type Clock } from './clock.js';
import { AbortedError, InvalidOptionError, PoolClosedError, UnknownClientError } from './errors.js';
import { Emitter, type Event } from './events.js';
import { ClientQueue } from './limit/client-queue.js';
import type { MemberSnapshot } from './member.js';
import { newMember } from './new-member.js';
import { composeAround, toMiddleware, type AnyMiddleware, type AroundChain, type Middleware } from './middleware/middleware.js';
import { Attempt, type Plan } from './pipeline/attempt.js';
import { CallbackGuard } from './pipeline/guard.js';
import { CallPlanner } from './pipeline/call-planner.js';
import { runAroundCall } from './pipeline/around-call.js';
import { clientTokenStage } from './pipeline/client-token.js';
import { entriesOf, pickClientStage } from './pipeline/pick-client.js';
import { PoolCore } from './pipeline/pool-core.js';
import { poolTokenStage } from './pipeline/pool-token.js';
import { raceStage } from './pipeline/race.js';
import { composeStages, invokeStep, middlewareStage, type Step } from './pipeline/stage.js';
import type { HealthChange, PoolObserver, RateLimitEvent, StateChange } from './pool-events.js';
import { breakerFactory, cacheSizeOption, middlewareOption, checkPoolOptions, readRunOptions, readRunOptionsOrRefusal, OptionsRefusal, readWasLabelOnly, quotaOption, rosterPolicy, type AddOptions, type CloseOptions, type PoolOptions } from './pool-options.js';
import { createProxy, type Proxied, type ProxyOptions } from './proxy.js';
import type { Random } from './random.js';
import { CallAttempts } from './resilience/call-attempts.js';
import { RetryBudget } from './resilience/retry-budget.js';
import { Removals } from './removals.js';
import { Roster } from './roster.js';
import { callable, clockOption } from './validate.js';
import { callChannel } from './diagnostics/channels.js';
import { traceCall } from './diagnostics/trace-call.js';
import type { SourceRecord } from './pipeline/call-end.js';
import { PoolShutdown } from './pool-shutdown.js';
import { freshnessOption } from './freshness/freshness-options.js';
import type { FreshnessChange } from './freshness/height-tracker.js';
import { PoolProbes } from './pool-probes.js';
import { minHeightStage } from './pipeline/min-height.js';
import { runQuorum, type QuorumOptions } from './resilience/quorum.js';

/**
 * A pool of interchangeable clients. Each `run()` is one journey through a pipeline of stages, composed
 * once (see `#compose`): the pool-wide token, a client picked and held, the client's own token, the race
 * against the deadline and the caller's signal, your middleware, your function. Each attempt ends in one
 * {@link Outcome}, decided in one place and read by the breaker, the counters and every observer. Retries
 * and hedges (`CallAttempts`) run attempts through the same pipeline.
 *
 * @example
 * ```ts
 * const pool = new ClientPool<RpcClient>({ breaker: { maxFailures: 3, cooldown: 5_000 }, timeout: 2_000 });
 * pool.add(new RpcClient(urlA), { name: 'a' });
 * pool.add(new RpcClient(urlB), { name: 'b', weight: 2 });
 * const slot = await pool.run((client, call) => client.getSlot({ signal: call.signal }), { method: 'get_slot' });
 * ```
 */
export class ClientPool<T> implements PoolObserver, AsyncDisposable {
  readonly #clock: Clock;
  readonly #breakerFactory: BreakerFactory;
  /** Options resolved per call: call > method > pool. */
  readonly #planner: CallPlanner<T>;
  readonly #roster: Roster<T>;
  /** What the pipeline runs on: the parts, the one classifier and the one settle. */
  readonly #core: PoolCore<T>;
  readonly #middleware: Middleware<T>[] = [];
  #around: AroundChain<T> | undefined;
  /** Where the pipeline for attempts nothing can end early is entered: by a call with no options, and by the first attempt of others (`entriesOf`). */
  #plainEntry!: Step<T>;
  #firstEntry!: Step<T>;
  #hasSharedLimits = false;
  readonly #removals: Removals<T>;
  readonly #shutdown: PoolShutdown<T>;
  readonly #stateChanges = new Emitter<StateChange>();
  readonly #rateLimits = new Emitter<RateLimitEvent>();
  readonly #healthChanges = new Emitter<HealthChange>();
  readonly #freshnessChanges = new Emitter<FreshnessChange>();
  readonly #probes: PoolProbes<T>;
  /** The plan of a call with no options when nothing goes around it and it has one plain attempt; else undefined. */
  #plainPlan: Plan<T> | undefined;
  /** Whether a call asked for `minHeight`: its stage is composed from then on. */
  #usesMinHeight = false;

  /** Subscribe to circuit transitions of every client. `at` is the pool clock's time (ms, `performance.now()` by default). */
  readonly onStateChange: Event<StateChange> = this.#stateChanges.event;
  /** Subscribe to calls that waited for, or were refused, a rate-limit token. */
  readonly onRateLimit: Event<RateLimitEvent> = this.#rateLimits.event;
  /** Subscribe to clients marked down or up by health checks. */
  readonly onHealthChange: Event<HealthChange> = this.#healthChanges.event;
  /** Subscribe to clients moving out of sync with the pool's head (`lagging`, `ahead`) and back (docs/freshness.md). */
  readonly onFreshnessChange: Event<FreshnessChange> = this.#freshnessChanges.event;

  constructor(options: PoolOptions<T> = {}) {
    checkPoolOptions(options);
    const random = options.random === undefined ? Math.random : callable<Random>('random', options.random);
    const isFailure = options.isFailure === undefined ? () => true : callable<(error: unknown) => boolean>('isFailure', options.isFailure);
    if (options.measureLatency !== undefined && typeof options.measureLatency !== 'boolean') throw new InvalidOptionError('measureLatency', 'a boolean', options.measureLatency);
    const guard = new CallbackGuard();
    const clock = (this.#clock = guardedClock(clockOption('clock', options.clock), (what, error) => guard.warn(what, error)));
    this.#breakerFactory = breakerFactory(options.breaker, (what, error) => guard.warn(what, error));
    const policy = rosterPolicy(options);
    const roster = (this.#roster = new Roster<T>(clock, random, policy, (member, from, to) => this.#core.reportTransition(member.name, from, to), () => queue.onReady(), (name, error) => guard.warn(name, error)));
    const queue = new ClientQueue(roster, clock, (client, method, since, rejected) => this.#core.reportLimit('client', client, method, since, rejected));
    const freshness = freshnessOption(options.freshness);
    this.#core = new PoolCore({ pool: this, clock, random, roster, queue, limit: quotaOption('limit', options.limit, clock, 'pool'), isFailure, budget: options.retryBudget === false ? undefined : new RetryBudget(options.retryBudget), stateChanges: this.#stateChanges, rateLimits: this.#rateLimits, guard, cacheSize: cacheSizeOption(options.cacheSize), heightRules: freshness.rules, freshnessChanges: this.#freshnessChanges, fleet: options.fleet, healthChanges: this.#healthChanges });
    this.#removals = new Removals(roster, this.#core);
    this.#roster.isTimed = options.measureLatency === true;
    this.#planner = new CallPlanner(options, roster, this.#core.deadlines, this.#core.hedgeDelays);
    this.#compose();
    this.#probes = new PoolProbes(options.healthCheck, freshness.poll, { roster, heights: this.#core.heights, healthChanges: this.#healthChanges, fleet: this.#core.fleet, warn: (what, error) => guard.warn(what, error) });
    for (const middleware of middlewareOption<T>(options.middleware)) this.use(middleware);
    // Last: nothing may be left running if an option above was refused.
    this.#shutdown = new PoolShutdown({ core: this.#core, roster, removals: this.#removals, probes: this.#probes, middleware: this.#middleware, pool: this, remove: (name) => this.remove(name), emitters: [this.#stateChanges, this.#rateLimits, this.#healthChanges, this.#freshnessChanges] });
    this.#core.fleet?.join(this.#probes.kinds);
    this.#probes.start();
  }

  /**
   * Run `fn` with a ready client. Resolves with its result; rejects with a clientpool error (the README's
   * errors table: `ClientCallError`, `TimeoutError`, `DeadlineExceededError`, `AllCircuitsOpenError`, ...)
   * whose `cause` is the original failure. Traced on `clientpool:call` while it has subscribers.
   */
  run<R>(fn: CallFunction<T, R>, options?: RunOptions<T>): Promise<Awaited<R>> {
    const plain = this.#plainPlan;
    // A closing pool refuses the call in its pick (the lane is closed then).
    if (options === undefined && plain !== undefined && typeof fn === 'function' && !callChannel.hasSubscribers) return this.#core.runPlain(fn, plain, this.#plainEntry, this.#planner.usesBudget) as Promise<Awaited<R>>;
    const runOptions = options === undefined ? EMPTY_OPTIONS : options; // null is refused, as a bad options object
    if (this.#around === undefined && this.#core.callEnds === undefined && !callChannel.hasSubscribers) return this.#run(fn, runOptions) as Promise<Awaited<R>>;
    return this.#call(fn, readRunOptionsOrRefusal(runOptions), callChannel.hasSubscribers) as Promise<Awaited<R>>;
  }

  /**
   * Quorum read (docs/quorum.md): `fn` on `of` distinct clients at once, each a full attempt; resolves with
   * the first answer `agree` of them match (`compare`, deep equality by default), cancelling the rest.
   * Outvoted clients are counted (`members()`), told to `onDisagree`, charged with `penalty`.
   * @throws (rejects) `QuorumError` (`too-few-clients`, `no-agreement` with every answer and error),
   *   `InvalidOptionError`, `AbortedError`, `PoolClosedError`, `CallbackError` (a throwing `compare`).
   */
  quorum<R>(fn: CallFunction<T, R>, options: QuorumOptions<T, Awaited<R>>): Promise<Awaited<R>> {
    return runQuorum(this.#core, this.#planner, fn, options);
  }

  /** Off `run()`'s fast path (small enough for V8 to inline): hooks, the trace. `options` read once: all see the same, and a refusal skips `around`. */
  #call(fn: CallFunction<T, unknown>, options: RunOptions<T> | OptionsRefusal, isTraced: boolean): Promise<unknown> {
    if (isTraced) return traceCall(this, this.#call, fn, options);
    const around = this.#around;
    const journey = (method?: string, answer?: SourceRecord): Promise<unknown> => (around === undefined ? this.#run(fn, options, method, answer, true) : runAroundCall(this.#core, this.#planner, around, fn, options, (read) => this.#run(fn, read, method, answer, true)));
    return this.#core.callEnds?.run(options, journey) ?? journey();
  }

  /** A call's journey: options read once (`isRead`: already, or refused) and resolved (call > method > pool), then its attempts through the pipeline. */
  #run(fn: CallFunction<T, unknown>, options: RunOptions<T> | OptionsRefusal, label?: string, answer?: SourceRecord, isRead = false): Promise<unknown> {
    try {
      const core = this.#core;
      if (core.isClosing) throw core.closedError();
      if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function (client, call) => result', fn);
      // No options, or only a label and retries: the method's plan as it is, no other option read (megamorphic).
      if (options !== EMPTY_OPTIONS && !isRead) {
        options = readRunOptions(options as RunOptions<T>); // A refusal comes with `isRead`.
        const labelled = readWasLabelOnly() ? core.runLabelled(fn, options, label ?? options.method ?? 'unknown', this.#planner, this.#firstEntry) : undefined;
        if (labelled !== undefined) return labelled;
      } else if (OptionsRefusal.is(options)) throw options.error; // Refused as a call without hooks is, never read again.
      const isPlain = options === EMPTY_OPTIONS;
      const signal = isPlain ? undefined : options.signal;
      if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
      // Checked before it joins or starts a flight (which would answer it whatever its own options); a flight it starts runs on that check.
      if (!isPlain && options.coalesce !== undefined) return core.coalesce(options, this.#planner.checked(options), (shared, checked) => this.#planner.runChecked(shared, checked, () => this.#run(fn, shared, label, undefined, true)), answer);
      if (!isPlain && options.minHeight !== undefined && !this.#usesMinHeight) { // The first call with `minHeight`: its stage joins the pipeline.
        this.#usesMinHeight = true;
        this.#compose();
      }
      const method = label ?? (isPlain ? 'unknown' : (options.method ?? 'unknown'));
      const planner = this.#planner;
      const defaults = planner.defaultsFor(method);
      const plan = isPlain && defaults.deadline === undefined ? defaults : planner.plan(options, defaults);
      const retry = isPlain || options.retry === undefined ? defaults.retry : planner.retry(options, defaults);
      const hedge = isPlain || options.hedge === undefined ? defaults.hedge : planner.hedge(options, defaults);
      // Calls count towards the budget once anything can spend it: no cost for pools without retries.
      if (retry !== undefined || hedge !== undefined) planner.usesBudget = true;
      if (planner.usesBudget) core.budget?.deposit();
      if (hedge === undefined) {
        const first = new Attempt(core, fn, options, method, plan, 1, 'first', undefined, Attempt.mayEndEarly(plan, options, false));
        if (retry === undefined) return first.race === undefined ? this.#firstEntry(first) : core.racedChain(first);
        // Retries only: the first attempt runs plain; the retry machinery is made once it fails.
        return CallAttempts.after(core, first, retry, first.race === undefined ? this.#firstEntry : core.racedChain);
      }
      return new CallAttempts(core, retry, hedge, { fn, options, method, plan }).run();
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- every error thrown above is a clientpool error (validation, closed, aborted)
      return Promise.reject(error);
    }
  }

  /**
   * The pipeline, composed once per combination of stages in use (rebuilt by `use()` and when a client
   * with a shared limit joins), never per call. Each stage is one file away.
   */
  #compose(): void {
    const core = this.#core;
    const middleware = this.#middleware.map((m) => middlewareStage<T>(m));
    const before = [this.#usesMinHeight ? minHeightStage(core, core.heights) : undefined, poolTokenStage(core), pickClientStage(core, this), this.#hasSharedLimits ? clientTokenStage(core) : undefined];
    const chain = composeStages([...before, ...middleware], invokeStep);
    core.racedChain = composeStages([...before, raceStage(core), ...middleware], invokeStep);
    core.isPickFirst = before[0] === undefined && before[1] === undefined;
    const plain = (this.#plainPlan = this.#around === undefined && core.callEnds === undefined ? this.#planner.plainPlan() : undefined);
    ({ plain: this.#plainEntry, first: this.#firstEntry } = entriesOf(chain, core.observers.length > 0, plain));
  }

  /**
   * Add a client. Returns its name.
   * @throws InvalidOptionError for a bad weight or limit, a duplicate name, or a client already in the pool.
   */
  add(client: T, options: AddOptions<T> = {}): string {
    if (this.#core.isClosing) throw new PoolClosedError();
    const member = newMember(client, options, this.#roster, this.#clock, this.#core.random, this.#breakerFactory);
    this.#roster.add(member);
    if (member.quota?.hasShared === true && !this.#hasSharedLimits) {
      this.#hasSharedLimits = true;
      this.#compose();
    }
    return member.name;
  }

  /**
   * Remove a client by name or reference. It takes no new call at once; the promise resolves when its
   * in-flight calls have finished and its `close` hook has run.
   */
  remove(client: string | T): Promise<void> {
    const member = this.#roster.find(client);
    return member === undefined ? Promise.reject(new UnknownClientError(client)) : this.#removals.remove(member);
  }

  /** Register middleware; the first registered is the outermost. Returns the pool for chaining. */
  use(middleware: AnyMiddleware<T>): this {
    if (this.#core.isClosing) throw new PoolClosedError();
    const normalized = toMiddleware(middleware, this.#middleware);
    this.#core.guard.watch(`middleware "${normalized.name}" attach`, normalized.attach?.(this));
    this.#middleware.push(normalized);
    if (this.#core.observe(this.#middleware)) this.#roster.isTimed = true;
    this.#around = composeAround(this.#middleware);
    this.#compose();
    return this;
  }

  /**
   * An object typed as the client whose methods and nested resources (`chat.completions.create`) run
   * through the pool, labelled by path (`get_slot`); lifecycle and event methods are left out (docs/proxy.md).
   */
  proxy<const I extends string = never, const E extends string = never>(options?: ProxyOptions<T, I, E>): Proxied<T, I, E> {
    return createProxy<T, I, E>({ run: (fn, runOptions) => this.run(fn, runOptions), sample: () => this.#roster.byName.values().next().value?.client, clients: () => Array.from(this.#roster.byName.values(), (m) => m.client) }, options);
  }

  /** A snapshot of every client: name, weight, circuit state, in-flight, counts, latency, tokens. */
  members(): MemberSnapshot[] {
    return this.#roster.snapshots();
  }

  /** Run one round of health checks now (they also run every `interval`); resolves when it is done. */
  checkHealth(): Promise<void> {
    return this.#probes.checkHealth();
  }

  /** The retry budget's state: extra attempts available now and refused so far. */
  get retryBudget(): { readonly balance: number; readonly refused: number } | undefined {
    return this.#core.budget?.snapshot();
  }

  /** Number of clients (not counting ones being removed). */
  get size(): number {
    return this.#roster.size;
  }

  /** Whether `close()` (or `destroy()`) has been called. */
  get isClosed(): boolean {
    return this.#core.isClosing;
  }

  /**
   * Stop taking calls and clients; end calls sleeping in a retry backoff (with their last error), calls
   * waiting for a token or a client and calls held in `around` hooks before `next()` (`PoolClosedError`); wait for calls in flight; remove every
   * client (running its `close` hook); close middleware and the pool's limit. With `signal`, a close that
   * takes too long turns into `destroy(signal.reason)`. Bad options reject with `InvalidOptionError`.
   * @throws AggregateError of the close hooks that failed (a hook given up by destroy() is only warned of).
   */
  close(options?: CloseOptions): Promise<void> {
    return this.#shutdown.close(options);
  }

  /**
   * Close at once: every attempt in flight ends now (its signal aborts, the caller gets `PoolClosedError`
   * with `reason` as its cause, its client hears no verdict), then `close()` completes; a close hook still
   * pending is given up and reported as a `CLIENTPOOL_CALLBACK_ERROR` warning. Only a call with no timeout
   * and no signal whose function ignores `call.signal` keeps its caller waiting on it.
   */
  destroy(reason?: unknown): Promise<void> {
    return this.#shutdown.destroy(reason);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
