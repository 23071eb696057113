import type { Balancer } from './balancers/balancer.js';
import { validateStrategy } from './balancers/strategies.js';
import type { BreakerFactory } from './breaker/breaker.js';
import type { AttemptKind, CallFunction, RunOptions } from './call.js';
import { systemClock, type Clock } from './clock.js';
import {
  AbortedError,
  ClientCallError,
  ClientPanicError,
  InvalidOptionError,
  isClientPoolError,
  PoolClosedError,
  RateLimitedError,
  TimeoutError,
  UnknownClientError,
} from './errors.js';
import { Emitter, type Event } from './events.js';
import { HealthChecker } from './health/health-checker.js';
import { isLimiter, type Limiter } from './limit/limiter.js';
import { ClientQueue } from './limit/client-queue.js';
import { TokenBucket, type TokenBucketOptions } from './limit/token-bucket.js';
import { Member, type MemberSnapshot } from './member.js';
import { compose, composeAround, toMiddleware, type AnyMiddleware, type AroundChain, type Handler, type Middleware } from './middleware/middleware.js';
import { EMPTY_OPTIONS, invoke, isLocal, NEVER_ABORTED, PoolCall, recover, type CallHost } from './pool-call.js';
import type { HealthChange, PoolObserver, RateLimitEvent, StateChange } from './pool-events.js';
import { breakerFactory, limiter, type AddOptions, type PoolOptions } from './pool-options.js';
import type { Random } from './random.js';
import { createProxy, type Proxied, type ProxyOptions } from './proxy.js';
import { hedgePolicy, HEDGE_MIN_SAMPLES, type HedgeOptions, type HedgePolicy } from './resilience/hedge-policy.js';
import { RetryBudget } from './resilience/retry-budget.js';
import { backoffDelay, retryPolicy, type RetryPolicy } from './resilience/retry-policy.js';
import { Roster } from './roster.js';
import { LatencyHistogram } from './util/latency-histogram.js';
import { abortSignal, between, callable, clockOption, nonEmptyString, nonNegative, optionsObject, positive } from './validate.js';

/**
 * A pool of interchangeable clients. Each `run()` picks a ready client with the strategy, passes it
 * through the middleware chain to your function, and feeds the outcome to that client's breaker.
 *
 * @example
 * ```ts
 * await using pool = new ClientPool<RpcClient>({ breaker: { maxFailures: 3, cooldown: 5_000 } });
 * pool.add(new RpcClient(urlA), { name: 'a' });
 * pool.add(new RpcClient(urlB), { name: 'b', weight: 2 });
 * const slot = await pool.run((client, call) => client.getSlot({ signal: call.signal }), { method: 'get_slot' });
 * ```
 */
export class ClientPool<T> implements PoolObserver, AsyncDisposable {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #breakerFactory: BreakerFactory;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #timeout: number | undefined;
  readonly #maxWait: number;
  /** Options of calls that give none of their own. */
  readonly #defaults: MethodDefaults<T>;
  /** Per-method options, by method label. */
  readonly #methods: Map<string, MethodDefaults<T>> | undefined;
  readonly #budget: RetryBudget | undefined;
  #usesBudget = false;
  /** Latency per method, kept only when a hedge delay is a quantile. */
  #histograms: Map<string, LatencyHistogram> | undefined;
  readonly #limit: Limiter | undefined;
  readonly #roster: Roster<T>;
  readonly #middleware: Middleware<T>[] = [];
  #chain: Handler<T> = invoke;
  /** The `around` hooks of the middleware, composed; undefined when none has one. */
  #around: AroundChain<T> | undefined;
  /** Calls waiting because every eligible client is out of tokens, served in order. */
  readonly #queue: ClientQueue<T>;
  #autoName = 0;
  /** Removals under way: drained, then closed. */
  readonly #removals = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  readonly #stateChanges = new Emitter<StateChange>();
  readonly #rateLimits = new Emitter<RateLimitEvent>();
  readonly #healthChanges = new Emitter<HealthChange>();
  readonly #health: HealthChecker<T, Member<T>> | undefined;
  readonly #host: CallHost<T> = { pause: (member, ms) => this.#pause(member, ms) };

  /** Subscribe to circuit transitions of every client. Returns a disposable. */
  readonly onStateChange: Event<StateChange> = this.#stateChanges.event;
  /** Subscribe to calls that waited for, or were refused, a rate-limit token. */
  readonly onRateLimit: Event<RateLimitEvent> = this.#rateLimits.event;
  /** Subscribe to clients marked down or up by health checks. */
  readonly onHealthChange: Event<HealthChange> = this.#healthChanges.event;

  /** Run one round of health checks now (they also run every `interval`); resolves when it is done. */
  checkHealth(): Promise<void> {
    return this.#health?.checkAll() ?? Promise.resolve();
  }

  constructor(options: PoolOptions<T> = {}) {
    optionsObject('options', options);
    this.#clock = clockOption('clock', options.clock) ?? systemClock;
    this.#random = options.random === undefined ? Math.random : callable('random', options.random);
    this.#isFailure = options.isFailure === undefined ? () => true : callable('isFailure', options.isFailure);
    this.#timeout = options.timeout === undefined ? undefined : positive('timeout', options.timeout);
    this.#maxWait = nonNegative('maxWait', options.maxWait ?? 1_000);
    const measureLatency = options.measureLatency ?? false;
    if (typeof measureLatency !== 'boolean') throw new InvalidOptionError('measureLatency', 'a boolean', measureLatency);
    this.#breakerFactory = breakerFactory(options.breaker);
    this.#limit = limiter(options.limit, this.#clock);
    const slowStart = options.slowStart;
    optionsObject('slowStart', slowStart);
    this.#roster = new Roster<T>(
      this.#clock,
      this.#random,
      {
        maxEjected: between('maxEjectedPercent', options.maxEjectedPercent ?? 100, 0, 100) / 100,
        slowStartWindow: slowStart === undefined ? 0 : positive('slowStart.window', slowStart.window),
        slowStartMinShare: between('slowStart.minShare', slowStart?.minShare ?? 0.1, 0, 1),
      },
      (member, from, to) => {
        if (this.#stateChanges.hasListeners) this.#stateChanges.emit({ client: member.name, from, to, at: this.#clock.now() });
      },
      () => this.#queue.onReady(),
    );
    this.#queue = new ClientQueue(this.#roster, this.#clock, (client, method, since, rejected) => this.#reportLimit('client', client, method, since, rejected));
    this.#roster.isTimed = measureLatency;
    const balancer = this.#roster.balancerFor(validateStrategy<T>('strategy', options.strategy ?? 'round-robin'));
    this.#defaults = { timeout: this.#timeout, balancer, retry: retryPolicy(options.retry), hedge: this.#hedgePolicy(options.hedge) };
    this.#budget = options.retryBudget === false ? undefined : new RetryBudget(options.retryBudget);
    this.#methods = this.#methodDefaults(options.methods);
    this.#usesBudget = [this.#defaults, ...(this.#methods?.values() ?? [])].some((d) => d.retry !== undefined || d.hedge !== undefined);
    if (options.healthCheck !== undefined) {
      const roster = this.#roster;
      this.#health = new HealthChecker<T, Member<T>>(options.healthCheck, {
        members: () => roster.byName.values(),
        clientOf: (member) => member.client,
        isDown: (member) => member.isDown,
        setDown: (member, isDown) => {
          roster.setDown(member, isDown);
          if (this.#healthChanges.hasListeners) this.#healthChanges.emit({ client: member.name, isDown });
        },
      });
    }
    if (options.middleware !== undefined) {
      if (!Array.isArray(options.middleware)) throw new InvalidOptionError('middleware', 'an array', options.middleware);
      for (const middleware of options.middleware as readonly AnyMiddleware<T>[]) this.use(middleware);
    }
    // Last: nothing may be left running if an option above was refused.
    this.#health?.start();
  }

  #methodDefaults(methods: PoolOptions<T>['methods']): Map<string, MethodDefaults<T>> | undefined {
    if (methods === undefined) return undefined;
    optionsObject('methods', methods);
    const map = new Map<string, MethodDefaults<T>>();
    for (const [method, options] of Object.entries(methods)) {
      const prefix = `methods.${method}`;
      optionsObject(prefix, options);
      const d = this.#defaults;
      map.set(method, {
        timeout: options.timeout === undefined ? d.timeout : positive(`${prefix}.timeout`, options.timeout),
        balancer: options.strategy === undefined ? d.balancer : this.#roster.balancerFor(validateStrategy<T>(`${prefix}.strategy`, options.strategy)),
        retry: options.retry === undefined ? d.retry : retryPolicy(options.retry, `${prefix}.retry`),
        hedge: options.hedge === undefined ? d.hedge : this.#hedgePolicy(options.hedge, `${prefix}.hedge`),
      });
    }
    return map;
  }

  /** The retry budget's state: extra attempts available now and refused so far. */
  get retryBudget(): { readonly balance: number; readonly refused: number } | undefined {
    const budget = this.#budget;
    return budget === undefined ? undefined : { balance: budget.balance, refused: budget.refused };
  }

  /** Number of clients (not counting ones being removed). */
  get size(): number {
    return this.#roster.size;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Add a client. Returns its name.
   * @throws InvalidOptionError for a bad weight or limit, a duplicate name, or a client already in the pool.
   */
  add(client: T, options: AddOptions<T> = {}): string {
    if (this.#closing !== undefined) throw new PoolClosedError();
    optionsObject('add options', options);
    const weight = positive('weight', options.weight ?? 1);
    const close = options.close === undefined ? undefined : callable<(client: T) => void>('close', options.close);
    const limit = options.limit;
    let bucket: TokenBucket | undefined;
    let shared: Limiter | undefined;
    if (limit instanceof TokenBucket) bucket = limit;
    else if (isLimiter(limit)) shared = limit;
    else if (limit !== undefined) bucket = new TokenBucket({ ...(limit as TokenBucketOptions), clock: this.#clock }, 'limit');
    let name: string;
    if (options.name === undefined) {
      do name = `client-${++this.#autoName}`;
      while (this.#roster.byName.has(name));
    } else {
      name = nonEmptyString('name', options.name);
      if (this.#roster.byName.has(name)) throw new InvalidOptionError('name', 'unique in the pool', name);
    }
    const existing = this.#roster.findByClient(client);
    if (existing !== undefined) throw new InvalidOptionError('client', `not already in the pool (it is "${existing.name}")`, name);

    const breaker = this.#breakerFactory({ clock: this.#clock, random: this.#random });
    if (breaker.usesDuration === true) this.#roster.isTimed = true;
    this.#roster.add(new Member(client, name, weight, this.#roster.allocateSlot(), breaker, close, bucket, shared));
    return name;
  }

  /**
   * Remove a client by name or reference. It takes no new call at once; the promise resolves when its
   * in-flight calls have finished and its `close` hook has run.
   */
  remove(client: string | T): Promise<void> {
    const member = this.#roster.find(client);
    if (member === undefined) return Promise.reject(new UnknownClientError(client));
    this.#roster.detach(member);
    const removal = this.#drain(member);
    // close() waits for removals already under way too.
    this.#removals.add(removal);
    const forget = (): void => void this.#removals.delete(removal);
    removal.then(forget, forget);
    return removal;
  }

  async #drain(member: Member<T>): Promise<void> {
    if (member.inFlight > 0) await new Promise<void>((resolve) => (member.drained = resolve));
    this.#roster.freeSlot(member);
    await member.close?.(member.client);
  }

  /** Register middleware; the first registered is the outermost. Returns the pool for chaining. */
  use(middleware: AnyMiddleware<T>): this {
    if (this.#closing !== undefined) throw new PoolClosedError();
    if (typeof middleware !== 'function' && (typeof middleware !== 'object' || middleware === null || typeof middleware.execute !== 'function')) {
      throw new InvalidOptionError('middleware', 'a function or an object with execute()', middleware);
    }
    const normalized = toMiddleware(middleware);
    normalized.attach?.(this);
    this.#middleware.push(normalized);
    this.#chain = compose(this.#middleware, invoke);
    this.#around = composeAround(this.#middleware);
    return this;
  }

  /**
   * Run `fn` with a ready client. Resolves with its result; rejects with a clientpool error whose
   * `cause` is the original failure (`ClientCallError`, `ClientPanicError`, `TimeoutError`,
   * `AbortedError`, `AllCircuitsOpenError`, `NoClientsError`, `RateLimitedError`, `PoolClosedError`).
   */
  run<R>(fn: CallFunction<T, R>, options?: RunOptions<T>): Promise<Awaited<R>> {
    const runOptions = options ?? EMPTY_OPTIONS;
    if (this.#around === undefined) return this.#run(fn, runOptions) as Promise<Awaited<R>>;
    return this.#runAround(this.#around, fn, runOptions) as Promise<Awaited<R>>;
  }

  /** A call inside the `around` hooks: options checked first, and whatever a hook throws recovered. */
  #runAround(around: AroundChain<T>, fn: CallFunction<T, unknown>, options: RunOptions<T>): Promise<unknown> {
    try {
      if (options !== EMPTY_OPTIONS) checkRunOptions(options);
      const method = options.method ?? 'unknown';
      const defaults = this.#methods?.get(method) ?? this.#defaults;
      const isResilient =
        (options.retry === undefined ? defaults.retry !== undefined : options.retry !== false) ||
        (options.hedge === undefined ? defaults.hedge !== undefined : options.hedge !== false);
      return around({ method, options, isResilient }, () => this.#run(fn, options)).catch((error: unknown) => {
        throw aroundFailure(error, method);
      });
    } catch (error) {
      return Promise.reject(aroundFailure(error, options.method ?? 'unknown'));
    }
  }

  /**
   * An object typed as the client whose methods run through the pool, each with its method name as the
   * label (`getSlot` → `get_slot` by default). Only methods are proxied.
   *
   * @example
   * ```ts
   * const rpc = pool.proxy({ methods: { getBlock: { timeout: 5_000 } } });
   * const slot = await rpc.getSlot('finalized'); // pool.run((c) => c.getSlot('finalized'), { method: 'get_slot' })
   * ```
   */
  proxy(options?: ProxyOptions<T>): Proxied<T> {
    return createProxy<T>(
      {
        run: (fn, runOptions) => this.run(fn, runOptions),
        sample: () => this.#roster.byName.values().next().value?.client,
      },
      options,
    );
  }

  /** A snapshot of every client: name, weight, circuit state, in-flight, counts, latency, tokens. */
  members(): MemberSnapshot[] {
    return Array.from(this.#roster.byName.values(), (member) => member.snapshot());
  }

  /** Stop taking calls, drain and remove every client (running their `close` hooks), close middleware. */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * A call's journey: options resolved (call > method > pool), the pool-wide token, a client chosen
   * (waiting if every client is out of tokens), then one attempt — or, with retry or hedging, as many
   * as the policies and the retry budget allow. Not `async`: the common path returns the attempt's own
   * promise instead of wrapping it in another.
   */
  #run(fn: CallFunction<T, unknown>, options: RunOptions<T>): Promise<unknown> {
    try {
      if (this.#closing !== undefined) throw new PoolClosedError();
      if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function (client, call) => result', fn);
      if (options !== EMPTY_OPTIONS) checkRunOptions(options);
      const signal = options.signal;
      if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
      const method = options.method ?? 'unknown';
      const defaults = (this.#methods === undefined ? undefined : this.#methods.get(method)) ?? this.#defaults;
      const timeout = options.timeout === undefined ? defaults.timeout : positive('timeout', options.timeout);
      const balancer = options.strategy === undefined ? defaults.balancer : this.#roster.balancerForCall(options.strategy);
      const retry = options.retry === undefined ? defaults.retry : retryPolicy(options.retry);
      const hedge = options.hedge === undefined ? defaults.hedge : this.#hedgePolicy(options.hedge);
      // Calls count towards the budget once anything can spend it: no cost for pools without retries.
      if (retry !== undefined || hedge !== undefined) this.#usesBudget = true;
      if (this.#usesBudget) this.#budget?.deposit();
      let hasPoolToken = false;
      if (retry === undefined && hedge === undefined && this.#queue.length === 0) {
        hasPoolToken = this.#limit === undefined || this.#limit.tryTake?.(1) === true;
        // The common path: no plan object, no extra promise.
        const member = hasPoolToken ? this.#roster.select(balancer, undefined, options.key) : undefined;
        if (member !== undefined) {
          return options.signal === undefined && timeout === undefined && member.sharedLimiter === undefined
            ? this.#plainAttempt(fn, options, method, member, this.#roster.admission)
            : this.#attempt(fn, options, method, timeout, member, this.#roster.admission, 1, 'first', undefined);
        }
      }
      const plan: Plan<T> = { fn, options, method, signal, timeout, balancer, retry, hedge, key: options.key };
      return retry === undefined && hedge === undefined ? this.#queued(plan, !hasPoolToken) : this.#resilient(plan);
    } catch (error) {
      // Every error thrown above is a clientpool error (validation, closed, aborted, unavailable).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** One attempt that had to wait: for the pool-wide token, or for a client with tokens. */
  async #queued(plan: Plan<T>, takeToken: boolean): Promise<unknown> {
    const [member, admission] = await this.#choose(plan, undefined, takeToken, plan.signal);
    return this.#attempt(plan.fn, plan.options, plan.method, plan.timeout, member, admission, 1, 'first', undefined);
  }

  /** Take the pool-wide token (once per call) and choose a client, avoiding `avoid` while others are ready. */
  /**
   * Take the pool-wide token and choose a client, avoiding `avoid` while others are ready. Waits end
   * with `signal`: the caller's, or for retries and hedges the call's own, aborted once the call is over.
   */
  async #choose(plan: Plan<T>, avoid: readonly Member<T>[] | undefined, takeToken: boolean, signal: AbortSignal | undefined): Promise<[Member<T>, 'call' | 'probe']> {
    if (takeToken && this.#limit !== undefined && this.#limit.tryTake?.(1) !== true) await this.#takePoolToken(signal, plan.options, plan.method);
    if (this.#closing !== undefined) throw new PoolClosedError();
    const member = this.#queue.length === 0 ? this.#roster.select(plan.balancer, avoid, plan.key) : undefined;
    if (member !== undefined) return [member, this.#roster.admission];
    const maxWait = plan.options.maxWait ?? this.#maxWait;
    return this.#queue.wait(plan.balancer, signal, maxWait, plan.method, avoid, plan.key);
  }

  /**
   * `#attempt` for the most common call: no signal, no timeout, no hedge. Built on `then` instead of
   * `async`: in the benchmarks this saves about a fifth of the pool's time and a third of its
   * allocations per call, since no async frame has to be kept.
   */
  #plainAttempt(fn: CallFunction<T, unknown>, options: RunOptions<T>, method: string, member: Member<T>, admission: 'call' | 'probe'): Promise<unknown> {
    const start = this.#roster.isTimed ? this.#clock.now() : Number.NaN;
    const call = new PoolCall(member, method, 1, 'first', NEVER_ABORTED, options, fn, this.#host);
    let chain: Promise<unknown>;
    try {
      chain = this.#chain(call);
    } catch (error) {
      // Middleware that throws synchronously: recovered and counted like any failure.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- normalised below
      chain = Promise.reject(error);
    }
    return chain.then(
      (result) => {
        this.#settle(member, admission, start, Outcome.Success, method);
        return result;
      },
      (error: unknown) => {
        this.#settle(member, admission, start, this.#classify(error), method);
        throw recover(error, call);
      },
    );
  }

  /**
   * Run the chain once on `member` and report the outcome to its breaker. Rejects with a clientpool
   * error (recovery); `controller` is given when hedging, to abort an attempt that lost the race.
   */
  async #attempt(
    fn: CallFunction<T, unknown>,
    options: RunOptions<T>,
    method: string,
    timeout: number | undefined,
    member: Member<T>,
    admission: 'call' | 'probe',
    attempt: number,
    kind: AttemptKind,
    controller: AbortController | undefined,
  ): Promise<unknown> {
    const signal = options.signal;
    if (member.sharedLimiter !== undefined) {
      await this.#takeSharedToken(member, admission, controller?.signal ?? signal, options, method);
      if (controller?.signal.aborted === true) {
        // The call ended (a hedge won, the caller left) while this attempt waited for its token.
        this.#settle(member, admission, Number.NaN, Outcome.Cancelled, method);
        throw LOST_RACE;
      }
    }
    const start = this.#roster.isTimed ? this.#clock.now() : Number.NaN;
    const call = new PoolCall(member, method, attempt, kind, signal ?? NEVER_ABORTED, options, fn, this.#host);
    try {
      const result =
        signal === undefined && timeout === undefined && controller === undefined ? await this.#chain(call) : await this.#guarded(call, signal, timeout, controller);
      this.#settle(member, admission, start, Outcome.Success, method);
      return result;
    } catch (error) {
      if (signal?.aborted === true) {
        this.#settle(member, admission, start, Outcome.Cancelled, method);
        throw new AbortedError(signal.reason);
      }
      if (controller?.signal.reason === LOST_RACE) {
        this.#settle(member, admission, start, Outcome.Cancelled, method);
        throw LOST_RACE;
      }
      const failure = call.signal.reason instanceof TimeoutError && call.signal.aborted ? call.signal.reason : error;
      this.#settle(member, admission, start, this.#classify(failure), method);
      throw recover(failure, call);
    }
  }

  /**
   * Retries and hedges. Attempts go to clients not yet tried while others are ready. A hedge starts
   * when the latest attempt has not answered within the hedge delay; a retry starts, after a backoff,
   * when every attempt in flight has failed. Both draw on the pool's retry budget. The first success
   * wins and aborts the others through their signal.
   */
  #resilient(plan: Plan<T>): Promise<unknown> {
    const { retry, hedge, signal } = plan;
    const tried: Member<T>[] = [];
    /** Hedge controllers of attempts in flight, to abort the losers; with when and where each started. */
    const controllers = new Map<AbortController, { attempt: number; start: number; client: string } | undefined>();
    let running = 0;
    /** The last attempt's error: a later failure to even choose a client must not hide it. */
    let lastAttemptError: Error | undefined;
    let attempts = 0;
    let retriesLeft = retry === undefined ? 0 : retry.attempts - 1;
    let hedgesLeft = hedge === undefined ? 0 : hedge.maxHedges;
    let previousDelay = retry?.initial ?? 0;
    let timer: NodeJS.Timeout | undefined;
    let isDone = false;
    // Ends the waits of attempts still choosing a client once the call is over (or the caller aborts).
    const callController = new AbortController();
    const callSignal = callController.signal;

    return new Promise((resolve, reject) => {
      const finish = (error: Error | undefined, value?: unknown, winner?: number): void => {
        isDone = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        callController.abort(LOST_RACE);
        // An attempt outrun by one that started after it was slower than a peer: a timeout of its client
        // (a black hole must reach its breaker even when hedges always save the call). Later ones are
        // merely cancelled.
        const now = winner === undefined || controllers.size === 0 ? 0 : this.#clock.now();
        for (const [controller, started] of controllers) {
          const isOutrun = winner !== undefined && started !== undefined && started.attempt < winner;
          controller.abort(isOutrun ? new TimeoutError(Math.round(now - started.start), started.client) : LOST_RACE);
        }
        if (error === undefined) resolve(value);
        else reject(error);
      };
      const onAbort = (): void => finish(new AbortedError(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });

      const launch = (kind: AttemptKind): void => {
        const controller = hedge === undefined ? undefined : new AbortController();
        if (controller !== undefined) controllers.set(controller, undefined);
        running++;
        const ended = (): void => {
          running--;
          if (controller !== undefined) controllers.delete(controller);
        };
        // Every attempt takes a pool-wide token: retries and hedges spend the upstream's quota too.
        this.#choose(plan, tried, true, callSignal).then(
          ([member, admission]) => {
            if (isDone) {
              ended();
              this.#settle(member, admission, Number.NaN, Outcome.Cancelled, plan.method);
              return;
            }
            tried.push(member);
            const attempt = ++attempts;
            if (controller !== undefined) controllers.set(controller, { attempt, start: this.#clock.now(), client: member.name });
            if (hedgesLeft > 0) armHedge();
            this.#attempt(plan.fn, plan.options, plan.method, plan.timeout, member, admission, attempt, kind, controller).then(
              (value) => {
                ended();
                if (!isDone) finish(undefined, value, attempt);
              },
              (error: unknown) => {
                ended();
                lastAttemptError = error as Error;
                failed(error as Error, attempt);
              },
            );
          },
          (error: unknown) => {
            ended();
            // No client could be chosen: report the last attempt's failure if there was one.
            failed(error instanceof AbortedError || lastAttemptError === undefined ? (error as Error) : lastAttemptError, attempts, true);
          },
        );
      };

      const armHedge = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (isDone || hedgesLeft === 0 || !this.#withdraw()) return;
          hedgesLeft--;
          launch('hedge');
        }, this.#hedgeDelay(hedge!, plan.method));
      };

      const failed = (error: Error, attempt: number, isChoiceFailure = false): void => {
        if (isDone || error === LOST_RACE) return;
        if (error instanceof AbortedError || running > 0) {
          if (error instanceof AbortedError) finish(error);
          return;
        }
        if (isChoiceFailure || retry === undefined || retriesLeft === 0 || !this.#shouldRetry(retry, error, attempt)) return finish(error);
        const backoff = backoffDelay(retry, attempt, previousDelay, this.#random);
        const retryAfter = retry.retryAfter(error) ?? 0;
        if (retryAfter > retry.max || !this.#withdraw()) return finish(error);
        retriesLeft--;
        previousDelay = Math.max(backoff, retryAfter);
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (!isDone) launch('retry');
        }, previousDelay);
      };

      launch('first');
    });
  }

  #shouldRetry(retry: RetryPolicy, error: Error, attempt: number): boolean {
    if (retry.retryOn !== undefined) return retry.retryOn(error, attempt);
    // By default: failures of a client, which another client may not share.
    if (error instanceof TimeoutError) return true;
    if (error instanceof ClientCallError || error instanceof ClientPanicError) return this.#isFailure(error.cause);
    return false;
  }

  #withdraw(): boolean {
    return this.#budget === undefined || this.#budget.tryWithdraw();
  }

  #hedgeDelay(hedge: HedgePolicy, method: string): number {
    if (!Number.isNaN(hedge.fixed)) return hedge.fixed;
    const histogram = this.#latencyOf(method);
    if (histogram.count < HEDGE_MIN_SAMPLES) return hedge.max;
    return Math.min(hedge.max, Math.max(hedge.min, histogram.quantile(hedge.quantile)));
  }

  /** A hedge policy; a quantile delay needs each method's latency, so it turns timing on. */
  #hedgePolicy(option: HedgeOptions | false | undefined, prefix = 'hedge'): HedgePolicy | undefined {
    const policy = hedgePolicy(option, prefix);
    if (policy !== undefined && Number.isNaN(policy.fixed)) {
      this.#roster.isTimed = true;
      this.#histograms ??= new Map();
    }
    return policy;
  }

  #latencyOf(method: string): LatencyHistogram {
    const histograms = (this.#histograms ??= new Map<string, LatencyHistogram>());
    let histogram = histograms.get(method);
    if (histogram === undefined) histograms.set(method, (histogram = new LatencyHistogram()));
    return histogram;
  }

  /** Run the chain racing the caller's signal, the timeout and a lost hedge race, so a call that ignores its signal still ends. */
  #guarded(call: PoolCall<T>, callerSignal: AbortSignal | undefined, timeout: number | undefined, own: AbortController | undefined): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    let forward: (() => void) | undefined;
    if (timeout !== undefined || own !== undefined) {
      const controller = own ?? new AbortController();
      if (timeout !== undefined) timer = setTimeout(() => controller.abort(new TimeoutError(timeout, call.clientName)), timeout);
      if (callerSignal !== undefined) {
        forward = () => controller.abort(callerSignal.reason);
        callerSignal.addEventListener('abort', forward, { once: true });
      }
      call.signal = controller.signal;
    }
    const signal = call.signal;
    return new Promise((resolve, reject) => {
      // Whichever ends the attempt first (the chain settling, or its signal) removes every listener and
      // the timer at once: a function that never settles must not keep them on a long-lived caller signal.
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (forward !== undefined) callerSignal!.removeEventListener('abort', forward);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        // The reason may be any value; #run turns it into a clientpool error before the caller sees it.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let chain: Promise<unknown>;
      try {
        chain = this.#chain(call);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- normalised by #run
        chain = Promise.reject(error);
      }
      // After an abort the chain may still settle: its result is dropped, its rejection handled here.
      chain.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- normalised by #run
          reject(error);
        },
      );
    });
  }

  /**
   * What a rejected attempt says of its client: a timeout is always a failure (a black hole must open
   * its breaker whatever `isFailure` says of the errors the client itself returns); an error the pool or
   * middleware raised before reaching the client says nothing; the rest is as `isFailure` decides.
   */
  #classify(error: unknown): Outcome {
    if (error instanceof TimeoutError) return Outcome.Failure;
    if (isLocal(error)) return Outcome.Answered;
    return this.#isFailure(error) ? Outcome.Failure : Outcome.Answered;
  }

  /** Count the outcome, feed the breaker and the latency estimate; `start` is NaN when calls are not timed. */
  #settle(member: Member<T>, admission: 'call' | 'probe', start: number, outcome: Outcome, method: string): void {
    const breaker = member.breaker;
    let duration = Number.NaN;
    if (!Number.isNaN(start)) {
      const now = this.#clock.now();
      duration = now - start;
      // A fast failure must not make a broken client look fast to latency-aware balancers: each failure
      // at least doubles its estimate, so a client failing fast falls out of favour within a few calls.
      if (outcome !== Outcome.Cancelled) {
        member.latency.observe(outcome === Outcome.Failure ? Math.max(duration, 2 * member.latency.valueAt(now), 1) : duration, now);
      }
      if (outcome === Outcome.Success && this.#histograms !== undefined) this.#latencyOf(method).record(duration);
    }
    this.#roster.inFlight(member, -1);
    switch (outcome) {
      case Outcome.Success:
        member.successes++;
        breaker.success(admission, duration);
        break;
      case Outcome.Answered:
        member.failures++;
        breaker.success(admission, duration);
        break;
      case Outcome.Failure:
        member.failures++;
        breaker.failure(admission, duration);
        break;
      case Outcome.Cancelled:
        member.cancelled++;
        breaker.release(admission);
        break;
    }
    if (breaker.state !== member.lastState || admission === 'probe' || member.placement === 'saturated') this.#roster.afterBreaker(member);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  /** The chosen client's shared (asynchronous) limit: wait for its token, or give the client back. */
  async #takeSharedToken(member: Member<T>, admission: 'call' | 'probe', signal: AbortSignal | undefined, options: RunOptions<T>, method: string): Promise<void> {
    const maxWait = options.maxWait === undefined ? this.#maxWait : nonNegative('maxWait', options.maxWait);
    const since = this.#clock.now();
    try {
      await member.sharedLimiter!.take(1, signal === undefined ? { maxWait } : { signal, maxWait });
    } catch (error) {
      this.#settle(member, admission, Number.NaN, Outcome.Cancelled, method);
      if (error instanceof RateLimitedError) this.#reportLimit('client', member.name, method, since, true);
      throw error;
    }
    const waited = this.#clock.now() - since;
    if (waited > 0) this.#reportLimit('client', member.name, method, since, false);
  }

  /** The pool-wide limit had no token at hand: wait for one, reporting the wait. */
  async #takePoolToken(signal: AbortSignal | undefined, options: RunOptions<T>, method: string): Promise<void> {
    const limit = this.#limit!;
    const since = this.#clock.now();
    const maxWait = options.maxWait === undefined ? this.#maxWait : nonNegative('maxWait', options.maxWait);
    try {
      await limit.take(1, signal === undefined ? { maxWait } : { signal, maxWait });
    } catch (error) {
      if (error instanceof RateLimitedError) this.#reportLimit('pool', undefined, method, since, true);
      throw error;
    }
    this.#reportLimit('pool', undefined, method, since, false);
  }

  #reportLimit(scope: 'pool' | 'client', client: string | undefined, method: string, since: number, rejected: boolean): void {
    if (this.#rateLimits.hasListeners) this.#rateLimits.emit({ scope, client, method, waitedMs: this.#clock.now() - since, rejected });
  }

  /** `call.pauseClient(ms)`: the upstream asked for a pause (429, Retry-After). */
  #pause(member: Member<T>, ms: number): void {
    nonNegative('pauseClient', ms);
    member.limiter?.pause(ms);
    this.#roster.throttle(member, this.#clock.now() + ms);
  }

  async #shutdown(): Promise<void> {
    this.#health?.stop();
    this.#queue.close();
    // Remove every client still in the pool; then wait for those and for removals already under way.
    // (A failed removal is reported through #removals below, not lost here.)
    for (const name of Array.from(this.#roster.byName.keys())) void this.remove(name).catch(() => undefined);
    const results = await Promise.allSettled([...this.#removals]);
    const closed = await Promise.allSettled([...this.#middleware.map(async (m) => m.close?.(this)), (async () => this.#limit?.close?.())()]);
    this.#stateChanges.clear();
    this.#rateLimits.clear();
    this.#healthChanges.clear();
    const errors = [...results, ...closed].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, `closing the pool: ${errors.length} close hook(s) failed`);
  }
}

/** Recovery for what an `around` hook threw: a clientpool error as it is, anything else wrapped. */
function aroundFailure(error: unknown, method: string): Error {
  if (isClientPoolError(error)) return error;
  return error instanceof Error ? new ClientCallError(error, '(around middleware)', method) : new ClientPanicError(error, '(around middleware)', method);
}

/** Check the shape of run options; the policies among them are validated where they are resolved. */
function checkRunOptions(options: RunOptions<unknown>): void {
  optionsObject('run options', options);
  abortSignal('signal', options.signal);
  if (options.method !== undefined) nonEmptyString('method', options.method);
  if (options.key !== undefined && typeof options.key !== 'string') throw new InvalidOptionError('key', 'a string', options.key);
  if (options.traceId !== undefined) nonEmptyString('traceId', options.traceId);
  if (options.maxWait !== undefined) nonNegative('maxWait', options.maxWait);
}

/** What a call runs with, options resolved once. */
interface Plan<T> {
  readonly fn: CallFunction<T, unknown>;
  readonly options: RunOptions<T>;
  readonly method: string;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly balancer: Balancer<T>;
  readonly retry: RetryPolicy | undefined;
  readonly hedge: HedgePolicy | undefined;
  readonly key: string | undefined;
}

/** Options resolved for the pool, or for one method. */
interface MethodDefaults<T> {
  readonly timeout: number | undefined;
  readonly balancer: Balancer<T>;
  readonly retry: RetryPolicy | undefined;
  readonly hedge: HedgePolicy | undefined;
}

/** The abort reason of an attempt that lost a hedge race: not a failure of its client. */
const LOST_RACE = new AbortedError(undefined, 'hedge lost: another attempt of this call succeeded first');

/** How a call ended, as the breaker and counters see it. */
const Outcome = {
  Success: 0,
  /** The client answered with an error the failure predicate does not count. */
  Answered: 1,
  Failure: 2,
  Cancelled: 3,
} as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];
