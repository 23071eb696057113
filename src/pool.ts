import type { Balancer } from './balancers/balancer.js';
import { strategyFactory, validateStrategy, type Strategy } from './balancers/strategies.js';
import { CLOSED, type BreakerFactory } from './breaker/breaker.js';
import type { PoolObserver, RateLimitEvent, StateChange } from './pool-events.js';
import { ConsecutiveBreaker, type ConsecutiveBreakerOptions } from './breaker/consecutive.js';
import type { Call, CallFunction, CallKey, RunOptions } from './call.js';
import { systemClock, type Clock } from './clock.js';
import {
  AbortedError,
  AllCircuitsOpenError,
  ClientCallError,
  ClientPanicError,
  InvalidOptionError,
  isClientPoolError,
  NoClientsError,
  PoolClosedError,
  TimeoutError,
  UnknownClientError,
  type UnavailableClient,
} from './errors.js';
import { Emitter, type Event } from './events.js';
import { Member, type MemberSnapshot } from './member.js';
import { compose, toMiddleware, type AnyMiddleware, type Handler, type Middleware } from './middleware/middleware.js';
import type { Random } from './random.js';
import { heapNode, IndexedHeap, type HeapNode } from './util/indexed-heap.js';
import { abortSignal, callable, nonEmptyString, optionsObject, positive } from './validate.js';

/** Options of a {@link ClientPool}. */
export interface PoolOptions<T> {
  /**
   * How a client is chosen for each call: a built-in name or your own `Balancer`.
   * @default 'round-robin'
   */
  readonly strategy?: Strategy<T>;
  /**
   * The per-client circuit breaker: options of the consecutive-failure breaker, a factory for another
   * kind, or `false` for none.
   * @default { maxFailures: 5, cooldown: 10_000, halfOpenProbes: 1 }
   */
  readonly breaker?: ConsecutiveBreakerOptions | BreakerFactory | false;
  /**
   * Decides whether an error counts against the client's breaker. Errors it rejects count as a
   * success of the client (it answered). The caller's own abort never counts.
   * @default every error counts
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Default timeout of every call in milliseconds. @default none */
  readonly timeout?: number;
  /** Middleware, outermost first; more can be added with `use()`. */
  readonly middleware?: readonly AnyMiddleware<T>[];
  /**
   * Time every call to keep each client's peak-EWMA latency (in `members()`). Reading the clock twice
   * costs about 90 ns per call here, so it is on only when asked for or when something uses it: the
   * `p2c-ewma` strategy, or a breaker that counts slow calls.
   * @default false
   */
  readonly measureLatency?: boolean;
  /** Time source. @default performance.now() */
  readonly clock?: Clock;
  /** Randomness for random strategies. @default Math.random */
  readonly random?: Random;
}

/** Options of `pool.add()`. */
export interface AddOptions<T> {
  /** Unique name, used in metrics and errors. @default `client-<n>` */
  readonly name?: string;
  /** Relative share for weighted strategies: a finite number > 0. @default 1 */
  readonly weight?: number;
  /** Called once the client has been removed and its calls have drained. */
  readonly close?: (client: T) => void | Promise<void>;
}

const EMPTY_OPTIONS: RunOptions<never> = Object.freeze({});
const NEVER_ABORTED = new AbortController().signal;
const noBreaker: BreakerFactory = () => ({
  state: CLOSED,
  acquire: () => 'call',
  canAcquire: () => true,
  success() {},
  failure() {},
  release() {},
});

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
  /** Whether calls are timed; turned on for good by whatever needs durations. */
  #timed: boolean;
  readonly #members = new Map<string, Member<T>>();
  readonly #byClient = new Map<T, Member<T>>();
  /** Members that may take a call now; balancers pick from it. */
  readonly #ready: Member<T>[] = [];
  /** Open members, ordered by the time they are due back. */
  readonly #cooling = new IndexedHeap<Member<T>>();
  readonly #coolingNodes: (HeapNode<Member<T>> | undefined)[] = [];
  readonly #balancers = new Map<Strategy<T>, Balancer<T>>();
  readonly #readyHooks: Balancer<T>[] = [];
  readonly #inFlightHooks: Balancer<T>[] = [];
  readonly #defaultBalancer: Balancer<T>;
  readonly #middleware: Middleware<T>[] = [];
  #chain: Handler<T> = invoke;
  readonly #bySlot: (Member<T> | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;
  #autoName = 0;
  /** Admission of the last `#select`, read right after it returns (no await in between). */
  #admission: 'call' | 'probe' = 'call';
  #closing: Promise<void> | undefined;
  readonly #stateChanges = new Emitter<StateChange>();
  readonly #rateLimits = new Emitter<RateLimitEvent>();

  /** Subscribe to circuit transitions of every client. Returns a disposable. */
  readonly onStateChange: Event<StateChange> = this.#stateChanges.event;
  /** Subscribe to calls that waited for, or were refused, a rate-limit token. */
  readonly onRateLimit: Event<RateLimitEvent> = this.#rateLimits.event;

  constructor(options: PoolOptions<T> = {}) {
    optionsObject('options', options);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random === undefined ? Math.random : callable('random', options.random);
    this.#isFailure = options.isFailure === undefined ? () => true : callable('isFailure', options.isFailure);
    this.#timeout = options.timeout === undefined ? undefined : positive('timeout', options.timeout);
    this.#timed = options.measureLatency ?? false;
    if (typeof this.#timed !== 'boolean') throw new InvalidOptionError('measureLatency', 'a boolean', this.#timed);
    this.#breakerFactory = breakerFactory(options.breaker);
    this.#defaultBalancer = this.#balancerFor(validateStrategy<T>('strategy', options.strategy ?? 'round-robin'));
    if (options.middleware !== undefined) {
      if (!Array.isArray(options.middleware)) throw new InvalidOptionError('middleware', 'an array', options.middleware);
      for (const middleware of options.middleware as readonly AnyMiddleware<T>[]) this.use(middleware);
    }
  }

  /** Number of clients (not counting ones being removed). */
  get size(): number {
    return this.#members.size;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Add a client. Returns its name.
   * @throws InvalidOptionError for a bad weight, a duplicate name, or a client already in the pool.
   */
  add(client: T, options: AddOptions<T> = {}): string {
    if (this.#closing !== undefined) throw new PoolClosedError();
    optionsObject('add options', options);
    const weight = positive('weight', options.weight ?? 1);
    const close = options.close === undefined ? undefined : callable<(client: T) => void>('close', options.close);
    let name: string;
    if (options.name === undefined) {
      do name = `client-${++this.#autoName}`;
      while (this.#members.has(name));
    } else {
      name = nonEmptyString('name', options.name);
      if (this.#members.has(name)) throw new InvalidOptionError('name', 'unique in the pool', name);
    }
    const existing = this.#byClient.get(client);
    if (existing !== undefined) throw new InvalidOptionError('client', `not already in the pool (it is "${existing.name}")`, name);

    const slot = this.#freeSlots.pop() ?? this.#nextSlot++;
    const breaker = this.#breakerFactory({ clock: this.#clock, random: this.#random });
    if (breaker.usesDuration === true) this.#timed = true;
    const member = new Member(client, name, weight, slot, breaker, close);
    this.#members.set(name, member);
    this.#byClient.set(client, member);
    this.#coolingNodes[slot] = heapNode(member);
    this.#bySlot[slot] = member;
    member.lastState = breaker.state;
    this.#place(member);
    return name;
  }

  /**
   * Remove a client by name or reference. It takes no new call at once; the promise resolves when its
   * in-flight calls have finished and its `close` hook has run.
   */
  async remove(client: string | T): Promise<void> {
    const member = (typeof client === 'string' ? this.#members.get(client) : undefined) ?? this.#byClient.get(client as T);
    if (member === undefined) throw new UnknownClientError(client);
    this.#members.delete(member.name);
    this.#byClient.delete(member.client);
    this.#unplace(member);
    member.placement = 'gone';
    if (member.inFlight > 0) await new Promise<void>((resolve) => (member.drained = resolve));
    this.#coolingNodes[member.slot] = undefined;
    this.#bySlot[member.slot] = undefined;
    this.#freeSlots.push(member.slot);
    await member.close?.(member.client);
  }

  /** Register middleware; the first registered is the outermost. Returns the pool for chaining. */
  use(middleware: AnyMiddleware<T>): this {
    if (typeof middleware !== 'function' && (typeof middleware !== 'object' || middleware === null || typeof middleware.execute !== 'function')) {
      throw new InvalidOptionError('middleware', 'a function or an object with execute()', middleware);
    }
    const normalized = toMiddleware(middleware);
    normalized.attach?.(this);
    this.#middleware.push(normalized);
    this.#chain = compose(this.#middleware, invoke);
    return this;
  }

  /**
   * Run `fn` with a ready client. Resolves with its result; rejects with a clientpool error whose
   * `cause` is the original failure (`ClientCallError`, `ClientPanicError`, `TimeoutError`,
   * `AbortedError`, `AllCircuitsOpenError`, `NoClientsError`, `PoolClosedError`).
   */
  run<R>(fn: CallFunction<T, R>, options?: RunOptions<T>): Promise<Awaited<R>> {
    return this.#run(fn, options ?? EMPTY_OPTIONS) as Promise<Awaited<R>>;
  }

  /** A snapshot of every client: name, weight, circuit state, in-flight, counts, latency. */
  members(): MemberSnapshot[] {
    return Array.from(this.#members.values(), (member) => member.snapshot());
  }

  /** Stop taking calls, drain and remove every client (running their `close` hooks), close middleware. */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(fn: CallFunction<T, unknown>, options: RunOptions<T>): Promise<unknown> {
    if (this.#closing !== undefined) throw new PoolClosedError();
    const signal = options.signal;
    if (signal !== undefined) {
      abortSignal('signal', signal);
      if (signal.aborted) throw new AbortedError(signal.reason);
    }
    const timeout = options.timeout === undefined ? this.#timeout : positive('timeout', options.timeout);
    const balancer = options.strategy === undefined ? this.#defaultBalancer : this.#balancerFor(options.strategy);
    const start = this.#timed ? this.#clock.now() : Number.NaN;
    const member = this.#select(balancer);
    const admission = this.#admission;
    this.#inFlight(member, 1);
    const call = new PoolCall(member.client, member.name, options.method ?? 'unknown', 1, signal ?? NEVER_ABORTED, options, fn);
    try {
      const result = signal === undefined && timeout === undefined ? await this.#chain(call) : await this.#guarded(call, signal, timeout);
      this.#settle(member, admission, start, Outcome.Success);
      return result;
    } catch (error) {
      if (signal?.aborted === true) {
        this.#settle(member, admission, start, Outcome.Cancelled);
        throw new AbortedError(signal.reason);
      }
      const failure = call.signal.reason instanceof TimeoutError && call.signal.aborted ? call.signal.reason : error;
      this.#settle(member, admission, start, isLocal(failure) || !this.#isFailure(failure) ? Outcome.Answered : Outcome.Failure);
      throw recover(failure, call);
    }
  }

  /** Pick a ready member and acquire its breaker, skipping members whose breaker refuses. */
  #select(balancer: Balancer<T>): Member<T> {
    const cooling = this.#cooling;
    if (cooling.size > 0) {
      const now = this.#clock.now();
      for (let top = cooling.peek(); top !== undefined && top.key <= now; top = cooling.peek()) {
        cooling.pop();
        this.#place(top.value);
      }
    }
    const ready = this.#ready;
    for (;;) {
      if (ready.length === 0) throw this.#unavailable();
      const member = this.#pickFrom(balancer, ready);
      const admission = member.breaker.acquire();
      if (admission === 'call') {
        this.#admission = admission;
        return member;
      }
      // A probe, or a refusal: the member's state or saturation may have changed.
      this.#afterBreaker(member);
      if (admission === 'probe') {
        this.#admission = admission;
        return member;
      }
      if (member.placement === 'ready') this.#moveTo(member, 'saturated');
    }
  }

  /** Map the balancer's pick back to our record by slot; a custom balancer must return one of `ready`. */
  #pickFrom(balancer: Balancer<T>, ready: readonly Member<T>[]): Member<T> {
    const picked = balancer.pick(ready);
    const member = this.#bySlot[picked.slot];
    if (member === undefined || member !== picked || member.placement !== 'ready') {
      throw new InvalidOptionError('strategy', 'a Balancer whose pick() returns one of the ready members', picked);
    }
    return member;
  }

  /** Run the chain racing the caller's signal and the timeout, so a call that ignores its signal still ends. */
  #guarded(call: PoolCall<T>, callerSignal: AbortSignal | undefined, timeout: number | undefined): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    let forward: (() => void) | undefined;
    if (timeout !== undefined) {
      const controller = new AbortController();
      timer = setTimeout(() => controller.abort(new TimeoutError(timeout, call.clientName)), timeout);
      if (callerSignal !== undefined) {
        forward = () => controller.abort(callerSignal.reason);
        callerSignal.addEventListener('abort', forward, { once: true });
      }
      call.signal = controller.signal;
    }
    const signal = call.signal;
    return new Promise((resolve, reject) => {
      // The reason may be any value; #run turns it into a clientpool error before the caller sees it.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      const onAbort = (): void => reject(signal.reason);
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (forward !== undefined) callerSignal!.removeEventListener('abort', forward);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // After an abort the chain may still settle: its result is dropped, its rejection handled here.
      this.#chain(call).then(
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

  /** Count the outcome, feed the breaker and the latency estimate; `start` is NaN when calls are not timed. */
  #settle(member: Member<T>, admission: 'call' | 'probe', start: number, outcome: Outcome): void {
    const breaker = member.breaker;
    let duration = Number.NaN;
    if (!Number.isNaN(start)) {
      const now = this.#clock.now();
      duration = now - start;
      // A fast failure must not make a broken client look fast to latency-aware balancers.
      if (outcome !== Outcome.Cancelled) member.latency.observe(outcome === Outcome.Failure ? Math.max(duration, member.latency.value) : duration, now);
    }
    this.#inFlight(member, -1);
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
    if (breaker.state !== member.lastState || admission === 'probe' || member.placement === 'saturated') this.#afterBreaker(member);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  #inFlight(member: Member<T>, delta: number): void {
    member.inFlight += delta;
    const hooks = this.#inFlightHooks;
    if (hooks.length > 0 && member.placement !== 'gone') for (let i = 0; i < hooks.length; i++) hooks[i]!.onInFlight!(member);
  }

  /** Note a transition (emit it) and put the member where its breaker now says. */
  #afterBreaker(member: Member<T>): void {
    const state = member.breaker.state;
    const from = member.lastState;
    if (state !== from) {
      member.lastState = state;
      if (this.#stateChanges.hasListeners) this.#stateChanges.emit({ client: member.name, from, to: state, at: this.#clock.now() });
    }
    this.#place(member);
  }

  #place(member: Member<T>): void {
    if (member.placement === 'gone') return;
    const state = member.breaker.state;
    if (state.kind === 'open' && this.#clock.now() < state.until) {
      this.#moveTo(member, 'cooling');
      const node = this.#coolingNodes[member.slot]!;
      node.key = state.until;
      if (this.#cooling.has(node)) this.#cooling.update(node);
      else this.#cooling.push(node);
    } else {
      this.#moveTo(member, member.breaker.canAcquire() ? 'ready' : 'saturated');
    }
  }

  #moveTo(member: Member<T>, placement: 'ready' | 'cooling' | 'saturated'): void {
    if (member.placement === placement) return;
    this.#unplace(member);
    member.placement = placement;
    if (placement === 'ready') {
      member.readyIndex = this.#ready.length;
      this.#ready.push(member);
      for (const balancer of this.#readyHooks) balancer.onReady?.(member);
    }
  }

  /** Take a member out of the ready array (swap-remove, O(1)) or the cooling heap. */
  #unplace(member: Member<T>): void {
    if (member.placement === 'ready') {
      const ready = this.#ready;
      const last = ready.pop()!;
      if (last !== member) {
        ready[member.readyIndex] = last;
        last.readyIndex = member.readyIndex;
      }
      member.readyIndex = -1;
      for (const balancer of this.#readyHooks) balancer.onUnready?.(member);
    } else if (member.placement === 'cooling') {
      const node = this.#coolingNodes[member.slot];
      if (node !== undefined) this.#cooling.remove(node);
    }
    member.placement = 'saturated';
  }

  #balancerFor(strategy: Strategy<T>): Balancer<T> {
    let balancer = this.#balancers.get(strategy);
    if (balancer !== undefined) return balancer;
    balancer = typeof strategy === 'string' ? strategyFactory<T>('strategy', strategy)({ random: this.#random, clock: this.#clock }) : validateStrategy<T>('strategy', strategy) as Balancer<T>;
    this.#balancers.set(strategy, balancer);
    if (balancer.onReady !== undefined || balancer.onUnready !== undefined) {
      this.#readyHooks.push(balancer);
      for (const member of this.#ready) balancer.onReady?.(member);
    }
    if (balancer.onInFlight !== undefined) this.#inFlightHooks.push(balancer);
    if (balancer.usesLatency === true) this.#timed = true;
    return balancer;
  }

  #unavailable(): Error {
    if (this.#members.size === 0) return new NoClientsError();
    const now = this.#clock.now();
    const clients: UnavailableClient[] = [];
    for (const member of this.#members.values()) {
      const state = member.breaker.state;
      clients.push(
        state.kind === 'open'
          ? { name: member.name, state: 'open', retryAfterMs: Math.max(0, state.until - now) }
          : { name: member.name, state: 'half-open', retryAfterMs: 0 },
      );
    }
    return new AllCircuitsOpenError(clients);
  }

  async #shutdown(): Promise<void> {
    const results = await Promise.allSettled([
      ...Array.from(this.#members.keys(), (name) => this.remove(name)),
    ]);
    const middleware = await Promise.allSettled(this.#middleware.map(async (m) => m.close?.()));
    this.#stateChanges.clear();
    this.#rateLimits.clear();
    const errors = [...results, ...middleware].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, `closing the pool: ${errors.length} close hook(s) failed`);
  }
}

/** How a call ended, as the breaker and counters see it. */
const Outcome = {
  Success: 0,
  /** The client answered with an error the failure predicate does not count. */
  Answered: 1,
  Failure: 2,
  Cancelled: 3,
} as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * The end of the chain: call the user's function, turning a synchronous throw into a rejection. Not an
 * `async` function: returning the function's own promise saves the ticks of wrapping it in another.
 * Every call reaching it was made by the pool (middleware must pass on the call it received).
 */
function invoke<T>(call: Call<T>): Promise<unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    return Promise.resolve((call as PoolCall<T>).invoke());
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- normalised by #run
    return Promise.reject(error);
  }
}

/** Errors the pool or its middleware raised before reaching the client: they say nothing of its health. */
function isLocal(error: unknown): boolean {
  return isClientPoolError(error) && !(error instanceof TimeoutError) && !(error instanceof ClientCallError) && !(error instanceof ClientPanicError);
}

/** Recovery: whatever was thrown, the caller gets a clientpool error with the original as `cause`. */
function recover(error: unknown, call: Call<unknown>): Error {
  if (isClientPoolError(error)) return error;
  if (error instanceof Error) return new ClientCallError(error, call.clientName, call.method);
  return new ClientPanicError(error, call.clientName, call.method);
}

function breakerFactory(option: PoolOptions<unknown>['breaker']): BreakerFactory {
  if (option === false) return noBreaker;
  if (typeof option === 'function') return option;
  // Validate now, so that a bad option fails at construction rather than at the first add().
  new ConsecutiveBreaker(option, systemClock, 'breaker');
  return ({ clock }) => new ConsecutiveBreaker(option, clock, 'breaker');
}

/** The call object: one per attempt, read by middleware and the user's function. */
class PoolCall<T> implements Call<T> {
  readonly client: T;
  readonly clientName: string;
  readonly method: string;
  readonly attempt: number;
  signal: AbortSignal;
  readonly options: RunOptions<T>;
  readonly #fn: CallFunction<T, unknown>;
  #values: Map<CallKey<unknown>, unknown> | undefined;

  constructor(
    client: T,
    clientName: string,
    method: string,
    attempt: number,
    signal: AbortSignal,
    options: RunOptions<T>,
    fn: CallFunction<T, unknown>,
  ) {
    this.client = client;
    this.clientName = clientName;
    this.method = method;
    this.attempt = attempt;
    this.signal = signal;
    this.options = options;
    this.#fn = fn;
  }

  invoke(): unknown {
    return this.#fn(this.client, this);
  }

  get<V>(key: CallKey<V>): V | undefined {
    return this.#values?.get(key) as V | undefined;
  }

  set<V>(key: CallKey<V>, value: V): void {
    (this.#values ??= new Map()).set(key, value);
  }
}
