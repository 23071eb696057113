import { validateStrategy, type Strategy } from '../balancers/strategies.js';
import { EMPTY_OPTIONS, type CallScope, type RunOptions } from '../call.js';
import { OptionsRefusal, resolveDefaults, type MethodDefaults, type PoolOptions } from '../pool-options.js';
import { CallPolicies } from '../resilience/call-policies.js';
import { hedgePolicy, type HedgeOptions, type HedgePolicy } from '../resilience/hedge-policy.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import type { Roster } from '../roster.js';
import { positiveDuration, unreadableOptions } from '../validate.js';
import type { Plan } from './attempt.js';
import { cacheOption, type CacheSettings } from './call-cache.js';
import { costOption, DEFAULT_COST } from '../limit/cost.js';
import { NORMAL, priorityOption } from '../limit/priority.js';

/** What checking a call's options found, so that nothing checked is read again: its plan, and its `cache` settings when it has one. */
export interface CheckedCall<T> {
  readonly plan: Plan<T>;
  readonly cache: CacheSettings | undefined;
}

/**
 * Resolves what a call runs with: the call's options over its method's (`methods`) over the pool's,
 * validated once at construction; a call that overrides nothing shares its method's plan, and per-call
 * retry and hedge options are validated once per options object.
 */
export class CallPlanner<T> {
  readonly #roster: Roster<T>;
  readonly #defaults: MethodDefaults<T>;
  readonly #methods: Map<string, MethodDefaults<T>> | undefined;
  readonly #policies: CallPolicies;
  /** What `scope()` checked, by the scope the hooks got, until `handOver` takes it (weak: a hook may never call next()). */
  readonly #checkedScopes = new WeakMap<CallScope<T>, CheckedCall<T>>();
  /** What `runChecked` gives the call's journey for the options it is for, within one synchronous stretch. */
  #handedOver: { readonly options: RunOptions<T>; readonly checked: CheckedCall<T> } | undefined = undefined;
  /** Where a call's deadline is read: the pool's clock, made never to go back. */
  readonly #deadlineClock: { now(): number };
  /** Whether any call may retry or hedge: until then, calls need not feed the retry budget. */
  usesBudget: boolean;
  /** The plan `#timedPlan` made last, and the defaults it was made from. */
  #lastTimedPlan: Plan<T> | undefined;
  #lastTimedDefaults: MethodDefaults<T> | undefined;
  /** Each method's latencies, recorded once a quantile hedge delay is in use. */
  readonly #hedgeDelays: { isRecording: boolean };

  constructor(options: PoolOptions<T>, roster: Roster<T>, deadlineClock: { now(): number }, hedgeDelays: { isRecording: boolean }) {
    this.#roster = roster;
    this.#hedgeDelays = hedgeDelays;
    this.#deadlineClock = deadlineClock;
    const resolved = resolveDefaults(options, {
      balancerFor: (strategy: Strategy<T>, option: string) => roster.balancerFor(validateStrategy<T>(option, strategy)),
      hedgePolicy: (option: HedgeOptions | false | undefined, prefix: string) => this.#hedgePolicy(option, prefix),
    });
    this.#defaults = resolved.pool;
    this.#methods = resolved.methods;
    this.#policies = new CallPolicies((option, prefix) => this.#hedgePolicy(option, prefix));
    this.usesBudget = [this.#defaults, ...(this.#methods?.values() ?? [])].some((d) => d.retry !== undefined || d.hedge !== undefined);
  }

  /** The defaults of `method`: its own, or the pool's. */
  defaultsFor(method: string): MethodDefaults<T> {
    return (this.#methods === undefined ? undefined : this.#methods.get(method)) ?? this.#defaults;
  }

  /** The plan of a call with no options when it is one plain attempt (no timeout, deadline, retry or hedge); else undefined. */
  plainPlan(): Plan<T> | undefined {
    const plan = this.defaultsFor('unknown');
    return plan.timeout === undefined && plan.deadline === undefined && plan.retry === undefined && plan.hedge === undefined ? plan : undefined;
  }

  /**
   * The plan of a call: its method's, unless it overrides `timeout`, `strategy` or `maxWait`, or has a
   * deadline (its own or its method's), which starts now.
   */
  plan(options: RunOptions<T>, defaults: MethodDefaults<T>): Plan<T> {
    try {
      const isPlain = options === EMPTY_OPTIONS || (options.timeout === undefined && options.strategy === undefined && options.maxWait === undefined && options.deadline === undefined && options.cost === undefined && options.priority === undefined);
      return isPlain && defaults.deadline === undefined ? defaults : this.#ownPlan(options, defaults, isPlain);
    } catch (error) {
      // A getter that throws: a bad option, with what it threw as the cause (a validation error as it is).
      throw unreadableOptions('run options', options, error);
    }
  }

  /** A plan of the call's own (out of `plan()`, which stays small enough to inline): its options over its method's, a deadline from now. */
  #ownPlan(options: RunOptions<T>, defaults: MethodDefaults<T>, isPlain: boolean): Plan<T> {
    const handed = this.#handedOver;
    if (handed !== undefined && handed.options === options) {
      this.#handedOver = undefined;
      return handed.checked.plan;
    }
    // Its own timeout and nothing else (the usual override): the plan shared by the calls with that timeout,
    // at once. Read in the order below (timeout and strategy before cost and priority), as they are checked.
    if (!isPlain && defaults.deadline === undefined && options.deadline === undefined && options.maxWait === undefined) {
      const timeout = options.timeout;
      if (options.strategy === undefined && options.cost === undefined && options.priority === undefined) return this.#timedPlan(defaults, positiveDuration('timeout', timeout));
    }
    // Read and checked in this order (deadline, maxWait, timeout, strategy, cost, priority): a call with
    // several bad options is refused for the same one whatever the code around it.
    const deadline = isPlain || options.deadline === undefined ? defaults.deadline : positiveDuration('deadline', options.deadline);
    const maxWait = isPlain ? defaults.maxWait : (options.maxWait ?? defaults.maxWait);
    const timeout = isPlain || options.timeout === undefined ? defaults.timeout : positiveDuration('timeout', options.timeout);
    const deadlineAt = deadline === undefined ? undefined : this.#deadlineClock.now() + deadline;
    const balancer = isPlain || options.strategy === undefined ? defaults.balancer : this.#roster.balancerForCall(options.strategy);
    const cost = isPlain || options.cost === undefined ? defaults.cost : costOption('cost', options.cost);
    const priority = isPlain || options.priority === undefined ? defaults.priority : priorityOption('priority', options.priority);
    // Only its timeout of its own (the usual override): a plan shared by the calls with that timeout.
    if (deadline === undefined && maxWait === defaults.maxWait && balancer === defaults.balancer && cost === defaults.cost && priority === defaults.priority) return this.#timedPlan(defaults, timeout);
    return { maxWait, timeout, deadline, deadlineAt, balancer, cost, priority, isPlainPick: cost === DEFAULT_COST && priority === NORMAL };
  }

  /** `defaults` with `timeout` instead of its own: the last one made is kept (one plan, however many calls). */
  #timedPlan(defaults: MethodDefaults<T>, timeout: number | undefined): Plan<T> {
    if (timeout === defaults.timeout) return defaults;
    const last = this.#lastTimedPlan;
    if (last !== undefined && last.timeout === timeout && this.#lastTimedDefaults === defaults) return last;
    const { maxWait, balancer, cost, priority, isPlainPick } = defaults;
    const plan: Plan<T> = { maxWait, timeout, deadline: undefined, deadlineAt: undefined, balancer, cost, priority, isPlainPick };
    this.#lastTimedDefaults = defaults;
    return (this.#lastTimedPlan = plan);
  }

  retry(options: RunOptions<T>, defaults: MethodDefaults<T>): RetryPolicy | undefined {
    try {
      // Read once: a getter may answer differently each time.
      const retry = options.retry;
      return retry === undefined ? defaults.retry : this.#policies.retry(retry);
    } catch (error) {
      throw unreadableOptions('run options', options, error);
    }
  }

  hedge(options: RunOptions<T>, defaults: MethodDefaults<T>): HedgePolicy | undefined {
    try {
      const hedge = options.hedge;
      return hedge === undefined ? defaults.hedge : this.#policies.hedge(hedge);
    } catch (error) {
      throw unreadableOptions('run options', options, error);
    }
  }

  /**
   * Check what a call's options hold as the call itself checks it, once they are read: its `cache`, plan,
   * retry and hedge. For a coalesced call before it joins or starts a flight (which would otherwise answer
   * it with another call's result); what `scope()` checked for its hooks is taken as it is (`runChecked`).
   * @throws InvalidOptionError
   */
  checked(options: RunOptions<T>): CheckedCall<T> {
    const handed = this.#handedOver;
    if (handed === undefined || handed.options !== options) return this.#check(options);
    this.#handedOver = undefined;
    return handed.checked;
  }

  #check(options: RunOptions<T>): CheckedCall<T> {
    // `cache` first, as a coalesced call without hooks checks it: a refused call builds no policy (a
    // quantile hedge's turns latency timing on for good).
    const cache = options.cache === undefined ? undefined : cacheOption(options);
    const defaults = this.defaultsFor(options.method ?? 'unknown');
    const plan = this.plan(options, defaults);
    this.retry(options, defaults);
    this.hedge(options, defaults);
    return { plan, cache };
  }

  /**
   * Run `run` (the call's journey, once its around hooks called `next()`) on what `scope()` checked for
   * `scope`: its deadline started at `run()`, so time in the hooks counts, and no getter is read twice.
   */
  handOver(scope: CallScope<T>, run: () => Promise<unknown>): Promise<unknown> {
    const checked = this.#checkedScopes.get(scope);
    if (checked === undefined) return run();
    this.#checkedScopes.delete(scope);
    return this.runChecked(scope.options, checked, run);
  }

  /** The plan `scope()` checked for `scope`, until `handOver` takes it. */
  planOf(scope: CallScope<T>): Plan<T> | undefined {
    return this.#checkedScopes.get(scope)?.plan;
  }

  /**
   * Run `run`, the journey of a call with `options`, on `checked`: the journey plans (`checked()`,
   * `plan()`) before anything of the user's can run, so it is handed over for one synchronous stretch.
   */
  runChecked(options: RunOptions<T>, checked: CheckedCall<T>, run: () => Promise<unknown>): Promise<unknown> {
    this.#handedOver = { options, checked };
    try {
      return run();
    } finally {
      this.#handedOver = undefined;
    }
  }

  /**
   * What `around` hooks see of a call: its label, options (the copy `readRunOptions` made), and whether it
   * may make several attempts. A refusal for options the call refuses, read (`OptionsRefusal` as it is) or
   * valued (a negative `timeout`, an unknown `priority`, a `retry` policy out of range): the call then runs
   * without its hooks and rejects with that error, after its closed and `fn` checks, as a call without
   * hooks does; its options are never checked again (a getter could answer a second time). `undefined`
   * for a call whose signal has aborted: it runs without its hooks, to its `AbortedError`.
   */
  scope(options: RunOptions<T> | OptionsRefusal): CallScope<T> | OptionsRefusal | undefined {
    if (OptionsRefusal.is(options)) return options;
    // Refused as aborted whatever else it holds (the call checks its signal first): no hook for it either.
    if (hasAborted(options.signal)) return undefined;
    let checked: CheckedCall<T>;
    try {
      checked = this.#check(options);
    } catch (error) {
      return new OptionsRefusal(options, error);
    }
    // A getter read by the check may have aborted it.
    if (hasAborted(options.signal)) return undefined;
    const method = options.method ?? 'unknown';
    const defaults = this.defaultsFor(method);
    const mayRetry = options.retry === undefined ? defaults.retry !== undefined : options.retry !== false;
    const mayHedge = options.hedge === undefined ? defaults.hedge !== undefined : options.hedge !== false;
    const scope: CallScope<T> = { method, options, isResilient: mayRetry || mayHedge };
    // Its deadline started now: `handOver` gives the call what was checked when its hooks call next().
    this.#checkedScopes.set(scope, checked);
    return scope;
  }

  /** A hedge policy; a quantile delay needs each method's latency, so it turns timing and recording on. */
  #hedgePolicy(option: HedgeOptions | false | undefined, prefix: string): HedgePolicy | undefined {
    const policy = hedgePolicy(option, prefix);
    if (policy !== undefined && Number.isNaN(policy.fixed)) {
      this.#roster.isTimed = true;
      this.#hedgeDelays.isRecording = true;
    }
    return policy;
  }
}

function hasAborted(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted;
}
