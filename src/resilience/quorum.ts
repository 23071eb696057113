import type { CallFunction, RunOptions } from '../call.js';
import { AbortedError, CallbackError, hasErrorCode, InvalidOptionError, QuorumError, type QuorumAnswer, type QuorumFailure } from '../errors.js';
import type { Member } from '../member.js';
import { Attempt, type AttemptGroup, type Plan } from '../pipeline/attempt.js';
import type { CallPlanner } from '../pipeline/call-planner.js';
import { isThenable } from '../pipeline/guard.js';
import type { PoolCore } from '../pipeline/pool-core.js';
import { checkRunOptions, OptionsRefusal } from '../pool-options.js';
import { givenOr, keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { jsonEqual } from './deep-equal.js';
import { DistinctClients } from './distinct-clients.js';

/** What `onDisagree` hears of a client whose answer was outvoted. */
export interface Disagreement<R> {
  /** The client's name in the pool. */
  readonly client: string;
  /** Its answer. */
  readonly value: R;
  /** The answer `agree` clients matched (what the quorum resolved with). */
  readonly majority: R;
  /** How many quorum reads this client has now been outvoted in, this one included. */
  readonly disagreements: number;
}

/**
 * Options of `pool.quorum()`: the quorum's own, and the run options that make sense for it. It takes no
 * `retry` or `hedge` (its attempts already run on several clients at once), no `coalesce` or `cache`, and
 * no `minHeight` (not yet: a read-your-writes pick does not keep a quorum's clients distinct).
 */
export interface QuorumOptions<T, R = unknown> extends Omit<RunOptions<T>, 'retry' | 'hedge' | 'coalesce' | 'cache' | 'minHeight'> {
  /** Distinct clients to ask, all at once: an integer from 1 to 1000. Required. */
  readonly of: number;
  /**
   * Matching answers needed: an integer from 1 to `of`.
   * @default a strict majority of `of`: Math.floor(of / 2) + 1
   */
  readonly agree?: number;
  /**
   * Whether two answers match: called with the first answer of a group and a new answer, and must answer at
   * once (a promise, or a throw, rejects the call with `CallbackError`).
   * @default deep equality of JSON-able values (docs/quorum.md: plain objects, arrays, primitives, bigint,
   *   bytes, `toJSON`)
   */
  readonly compare?: (a: R, b: R) => boolean;
  /**
   * Told of each client whose answer was outvoted, once the quorum resolved. Guarded: a throw (or a
   * rejected promise) is reported as a warning and changes nothing.
   */
  readonly onDisagree?: (disagreement: Disagreement<R>) => void;
  /**
   * Also record a failure on an outvoted client's breaker (after the success its attempt counted), so
   * that a client that keeps lying has its circuit opened like one that keeps failing.
   * @default false
   */
  readonly penalty?: boolean;
}

/** Group sizes a QuorumError's message lists at most. */
const MAX_LISTED_GROUPS = 10;

/** Distinct clients a quorum may ask at most. */
export const MAX_QUORUM = 1_000;

/**
 * The abort reason of a quorum attempt still running when the quorum was decided: a cancellation, not a
 * failure of its client.
 */
export const QUORUM_DECIDED: AbortedError = Object.freeze(new AbortedError(undefined, 'quorum decided: this attempt\'s answer is no longer needed'));

const QUORUM_KEYS = keySet(['of', 'agree', 'compare', 'onDisagree', 'penalty', 'method', 'strategy', 'signal', 'timeout', 'deadline', 'key', 'maxWait', 'traceId', 'cost', 'priority']);
const OWN_KEYS: ReadonlySet<string> = new Set(['of', 'agree', 'compare', 'onDisagree', 'penalty']);

/** Quorum options read once and checked. */
interface QuorumSpec<T> {
  readonly of: number;
  readonly agree: number;
  readonly compare: ((a: unknown, b: unknown) => unknown) | undefined;
  readonly onDisagree: ((disagreement: Disagreement<unknown>) => unknown) | undefined;
  readonly penalty: boolean;
  /** The run options every attempt gets: the caller's, without the quorum's own. */
  readonly run: RunOptions<T>;
  /** Every option given, read once: what `onCallEnd` hooks hear as the call's options. */
  readonly given: RunOptions<T>;
}

/**
 * Run `fn` on `of` distinct clients at once, each attempt a full journey through the pool's pipeline
 * (tokens, breaker, timeout, middleware); resolve with the first answer that `agree` of them match. The
 * attempts still running are cancelled then (their signals abort with {@link QUORUM_DECIDED}; no verdict
 * on their clients); each client whose answer was outvoted is counted (`disagreements` in `pool.members()`), told to
 * `onDisagree`, and with `penalty` charged a failure on its breaker.
 *
 * @throws (rejects) InvalidOptionError for bad options; PoolClosedError once the pool closes (or when
 *   `destroy()` ends the attempts); AbortedError when the caller's signal aborts (`cause`: its reason);
 *   QuorumError when fewer than `of` clients can take a call (at once, no client called), or as soon as no
 *   value can reach `agree` matching answers; CallbackError when `compare` throws or answers with a promise.
 */
export function runQuorum<T, R>(core: PoolCore<T>, planner: CallPlanner<T>, fn: CallFunction<T, R>, options: QuorumOptions<T, Awaited<R>>): Promise<Awaited<R>> {
  // A quorum is one call to its caller, whatever its attempts: `onCallEnd` hooks (calls_total) hear it once.
  const ends = core.callEnds;
  if (ends === undefined) return quorumCall(core, planner, fn, () => quorumSpec<T>(options));
  // Read once, as run() reads its options: the hooks hear the copy (or the refusal) and the label read from it.
  const read = quorumSpecOrRefusal<T>(options);
  const specOf = (): QuorumSpec<T> => {
    if (OptionsRefusal.is(read)) throw read.error;
    return read;
  };
  return ends.run(OptionsRefusal.is(read) ? read : read.given, () => quorumCall(core, planner, fn, specOf)) as Promise<Awaited<R>>;
}

function quorumSpecOrRefusal<T>(options: unknown): QuorumSpec<T> | OptionsRefusal {
  try {
    return quorumSpec<T>(options);
  } catch (error) {
    return new OptionsRefusal(options, error);
  }
}

function quorumCall<T, R>(core: PoolCore<T>, planner: CallPlanner<T>, fn: CallFunction<T, R>, specOf: () => QuorumSpec<T>): Promise<Awaited<R>> {
  try {
    if (core.isClosing) throw core.closedError();
    if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function (client, call) => result', fn);
    const spec = specOf();
    const signal = spec.run.signal;
    if (signal !== undefined && signal.aborted) throw new AbortedError(signal.reason);
    const method = spec.run.method ?? 'unknown';
    const plan = planner.plan(spec.run, planner.defaultsFor(method));
    const available = availableClients(core);
    if (available < spec.of) throw new QuorumError('too-few-clients', spec.of, spec.agree, available, [], []);
    return new Quorum(core, fn, spec, method, plan, available).run() as Promise<Awaited<R>>;
  } catch (error) {
    // Every error thrown above is a clientpool error (validation, closed, aborted, too few clients).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(error);
  }
}

/**
 * Clients that can take part now: not down, not out of sync with the pool's head (lagging, or ahead
 * uncorroborated: the roster never serves those), and not open with a cooldown to run. One out of tokens or
 * at its `maxInFlight` counts (its attempt waits, within `maxWait`), as does a half-open one.
 */
function availableClients<T>(core: PoolCore<T>): number {
  const now = core.clock.now();
  let count = 0;
  for (const member of core.roster.byName.values()) {
    if (member.isDown || member.isOutOfSync) continue;
    const state = member.breaker.state;
    if (state.kind === 'open' && now < state.until) continue;
    count++;
  }
  return count;
}

/** Read and check the options, each once (a getter may answer differently each time). */
function quorumSpec<T>(options: unknown): QuorumSpec<T> {
  if (options === undefined) throw new InvalidOptionError('options', 'quorum options with `of` (e.g. { of: 3 })', options);
  optionsObject('quorum options', options);
  const read: Record<string, unknown> = {};
  const run: Record<string, unknown> = {};
  const given: Record<string, unknown> = {};
  try {
    // Every key, inherited ones included, as run() reads them; one whose value is undefined is not given
    // (`{ ...call.options, of: 3 }` passes on a call's copy of its options, every run option in it).
    for (const key in options as object) {
      const value: unknown = (options as Record<string, unknown>)[key];
      if (value === undefined) continue;
      given[key] = value;
      if (OWN_KEYS.has(key)) read[key] = value;
      else run[key] = value;
    }
  } catch (error) {
    throw unreadableOptions('quorum options', options, error);
  }
  knownKeys('quorum options', given, QUORUM_KEYS);
  const of = read['of'];
  if (typeof of !== 'number' || !Number.isInteger(of) || of < 1 || of > MAX_QUORUM) throw new InvalidOptionError('of', `an integer from 1 to ${MAX_QUORUM}`, of);
  const agree = givenOr(read['agree'], Math.floor(of / 2) + 1);
  if (typeof agree !== 'number' || !Number.isInteger(agree) || agree < 1 || agree > of) throw new InvalidOptionError('agree', `an integer from 1 to of (${of})`, agree);
  const compare = read['compare'];
  if (compare !== undefined && typeof compare !== 'function') throw new InvalidOptionError('compare', 'a function (a, b) => boolean', compare);
  const onDisagree = read['onDisagree'];
  if (onDisagree !== undefined && typeof onDisagree !== 'function') throw new InvalidOptionError('onDisagree', 'a function ({ client, value, majority }) => void', onDisagree);
  const penalty = givenOr(read['penalty'], false);
  if (typeof penalty !== 'boolean') throw new InvalidOptionError('penalty', 'a boolean', penalty);
  checkRunOptions(run);
  return {
    of,
    agree,
    compare: compare as QuorumSpec<T>['compare'],
    onDisagree: onDisagree as QuorumSpec<T>['onDisagree'],
    penalty,
    run,
    given,
  };
}

/** Answers that matched one another: the first one stands for them all. */
interface AnswerGroup {
  readonly value: unknown;
  count: number;
}

/** One answer, with the member that gave it and the group it joined. */
interface Given<T> {
  readonly answer: QuorumAnswer;
  readonly member: Member<T>;
  readonly group: AnswerGroup;
}

/**
 * The attempts of one quorum read: a group whose clients must be distinct (its `tried` list is strict:
 * the roster never gives one of them again), decided by counting matching answers as they arrive.
 */
class Quorum<T> implements AttemptGroup<T> {
  readonly tried = new DistinctClients<T>();
  readonly #core: PoolCore<T>;
  readonly #fn: CallFunction<T, unknown>;
  readonly #spec: QuorumSpec<T>;
  readonly #method: string;
  readonly #plan: Plan<T>;
  /** Clients that could take part when it started. */
  readonly #available: number;
  readonly #inFlight = new Set<Attempt<T>>();
  readonly #groups: AnswerGroup[] = [];
  readonly #given: Given<T>[] = [];
  readonly #errors: QuorumFailure[] = [];
  /** The size of the largest group. */
  #best = 0;
  #isDone = false;
  #waitController: AbortController | undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (error: Error) => void;

  constructor(core: PoolCore<T>, fn: CallFunction<T, unknown>, spec: QuorumSpec<T>, method: string, plan: Plan<T>, available: number) {
    this.#core = core;
    this.#fn = fn;
    this.#spec = spec;
    this.#method = method;
    this.#plan = plan;
    this.#available = available;
  }

  get isDone(): boolean {
    return this.#isDone;
  }

  /** Aborted once the quorum is decided: ends the waits (tokens, a client) of attempts not yet started. */
  get waitSignal(): AbortSignal {
    this.#waitController ??= new AbortController();
    if (this.#isDone) this.#waitController.abort(QUORUM_DECIDED);
    return this.#waitController.signal;
  }

  run(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      // Every attempt is launched before any can settle (their handlers run later): the count in flight
      // is `of` minus those that ended, from the start.
      for (let n = 1; n <= this.#spec.of; n++) this.#launch(n);
    });
  }

  #launch(n: number): void {
    const core = this.#core;
    // The first is the call's first attempt; the others run beside it on other clients, as hedges do.
    const attempt = new Attempt(core, this.#fn, this.#spec.run, this.#method, this.#plan, n, n === 1 ? 'first' : 'quorum', this, true);
    this.#inFlight.add(attempt);
    let result: Promise<unknown>;
    try {
      result = core.start(attempt);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by #failed
      result = Promise.reject(error);
    }
    result.then(
      (value) => this.#answered(attempt, value),
      (error: unknown) => this.#failed(attempt, error),
    );
  }

  #answered(attempt: Attempt<T>, value: unknown): void {
    this.#inFlight.delete(attempt);
    if (this.#isDone) return;
    let group: AnswerGroup;
    try {
      group = this.#groupOf(value);
    } catch (error) {
      this.#finish(error instanceof CallbackError ? error : new CallbackError('compare', 'threw', error));
      return;
    }
    this.#given.push({ answer: { client: attempt.clientName, value }, member: attempt.member!, group });
    if (++group.count > this.#best) this.#best = group.count;
    if (group.count >= this.#spec.agree) this.#agreed(group);
    else this.#checkPossible();
  }

  #failed(attempt: Attempt<T>, error: unknown): void {
    this.#inFlight.delete(attempt);
    if (this.#isDone) return;
    const core = this.#core;
    // destroy() ended the call: the caller gets what every call gets then.
    if (core.destroyError !== undefined) return this.#finish(core.destroyError);
    const signal = this.#spec.run.signal;
    if (signal !== undefined && signal.aborted) return this.#finish(hasErrorCode(error, 'ERR_ABORTED') ? error : new AbortedError(signal.reason));
    this.#errors.push({ client: attempt.clientName, error: error as Error });
    this.#checkPossible();
  }

  /** The group `value` matches (its count not yet raised), or a new one. */
  #groupOf(value: unknown): AnswerGroup {
    const compare = this.#spec.compare;
    for (const group of this.#groups) {
      if (compare === undefined) {
        if (jsonEqual(group.value, value)) return group;
        continue;
      }
      const isMatch = compare(group.value, value);
      if (isThenable(isMatch)) {
        Promise.resolve(isMatch).catch(() => undefined);
        throw new CallbackError('compare', 'returned a promise where an answer was due at once (make it synchronous)');
      }
      if (isMatch === true) return group;
      if (isMatch !== false) throw new CallbackError('compare', `returned ${typeof isMatch} where a boolean was due`);
    }
    const group = { value, count: 0 };
    this.#groups.push(group);
    return group;
  }

  /** Fail as soon as no value can reach `agree`, even if every attempt still running agreed with the largest group. */
  #checkPossible(): void {
    if (this.#best + this.#inFlight.size >= this.#spec.agree) return;
    const { of, agree } = this.#spec;
    const sizes = this.#groups.map((g) => g.count).sort((a, b) => b - a);
    // A message stays short however many answers split: the largest groups, then how many more.
    const split = sizes.slice(0, MAX_LISTED_GROUPS).join('-') + (sizes.length > MAX_LISTED_GROUPS ? `-… (${sizes.length} groups)` : '');
    this.#finish(new QuorumError('no-agreement', of, agree, this.#available, this.#given.map((g) => g.answer), this.#errors, split));
  }

  #agreed(majority: AnswerGroup): void {
    this.#finish(undefined, majority.value);
    for (const given of this.#given) if (given.group !== majority) this.#outvoted(given, majority.value);
  }

  /** A client whose answer lost: counted, told to `onDisagree`, and with `penalty` charged on its breaker. */
  #outvoted(given: Given<T>, majority: unknown): void {
    const member = given.member;
    const disagreements = ++member.disagreements;
    const core = this.#core;
    if (this.#spec.penalty && member.placement !== 'gone') {
      try {
        // As a plain call's failure (never a probe's: its permit was handed back when it answered).
        member.breaker.failure('call', Number.NaN);
      } catch (error) {
        core.guard.warn('the breaker', error);
      }
      core.roster.afterBreaker(member);
    }
    const onDisagree = this.#spec.onDisagree;
    if (onDisagree === undefined) return;
    try {
      const result = onDisagree({ client: given.answer.client, value: given.answer.value, majority, disagreements });
      if (result !== undefined) core.guard.watch('quorum onDisagree', result);
    } catch (error) {
      core.guard.warn('quorum onDisagree', error);
    }
  }

  /** Decided: every attempt still running is cancelled (no verdict on its client), then the caller hears. */
  #finish(error: Error | undefined, value?: unknown): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#waitController?.abort(QUORUM_DECIDED);
    for (const attempt of this.#inFlight) attempt.end('cancelled', QUORUM_DECIDED, QUORUM_DECIDED);
    if (error === undefined) this.#resolve(value);
    else this.#reject(error);
  }
}
