import type { Admission } from '../breaker/breaker.js';
import { EMPTY_OPTIONS } from '../call.js';
import { attemptStartChannel, type AttemptStartMessage } from '../diagnostics/channels.js';
import { DeadlineExceededError, ShedError, type ClientPoolError } from '../errors.js';
import { LOW, NORMAL } from '../limit/priority.js';
import type { Member } from '../member.js';
import type { PickResult } from '../roster.js';
import type { ClientPool } from '../pool.js';
import { Attempt, RaceState, type Plan } from './attempt.js';
import type { StageContext } from './context.js';
import { ended } from './outcome.js';
import { heightOf } from './min-height.js';
import { overdueOf } from './pool-token.js';
import { asPromise, invokeStep, type Stage, type Step } from './stage.js';

// The handlers of a held attempt's promise (`Attempt.heldSucceeded`), read once from the class: a user's
// function is given the attempt itself, and may write its own properties.
// eslint-disable-next-line @typescript-eslint/unbound-method -- bound to their attempt per call
const { heldSucceeded, laneSucceeded, heldFailed } = Attempt.prototype;
// A raced attempt's, likewise, for the rare end that comes after its function ran (`holdRaced`).
// eslint-disable-next-line @typescript-eslint/unbound-method -- called on its race
const { failLater: raceFailedLater } = RaceState.prototype;

/**
 * Pick a client and hold it: the balancer chooses among ready clients (avoiding those this call tried),
 * the breaker admits, and when every client is out of tokens the attempt queues (FIFO, `maxWait`, its
 * signal). This stage takes the client, so it is the one place that settles it, whatever happens after:
 * a value, an error, a timeout, a cancellation. Holding one is the start of an attempt, published on
 * `clientpool:attempt:start` (named for `pool`) while it has subscribers.
 */
export function pickClientStage<T>(context: StageContext<T>, pool: ClientPool<T>): Stage<T> {
  return (next) => {
    // When the function comes right after (no middleware, no client token, no race), call it directly:
    // a direct call is one V8 can inline, where a call through `next` is shared by every composition.
    const isLast = next === invokeStep;
    const hold = (attempt: Attempt<T>, member: Member<T>, admission: Exclude<Admission, false>): Promise<unknown> => {
      attempt.bind(member, admission);
      // What only some attempts need, behind one test: the hot path stays small enough for V8 to inline.
      if (attempt.race !== undefined || attempt.group !== undefined || context.tracksPlain || context.isTimed || attempt.hasSignal || attemptStartChannel.hasSubscribers) {
        begin(attempt, member);
        if (attempt.race !== undefined) return holdRaced(attempt, attempt.race);
      }
      let result: Promise<unknown>;
      try {
        result = isLast ? invokeStep(attempt) : next(attempt);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified below
        result = Promise.reject(error);
      }
      try {
        return result.then(heldSucceeded.bind(attempt), heldFailed.bind(attempt));
      } catch (error) {
        return notAPromise(attempt, error);
      }
    };

    /**
     * A held attempt that can be ended early: its caller waits on its race's promise, which the function's
     * end settles here, or an early end settles first (`RaceState.endEarly`); whichever comes second
     * changes nothing. One promise and one `then()` more than a plain attempt, no more.
     */
    const holdRaced = (attempt: Attempt<T>, race: RaceState<T>): Promise<unknown> => {
      const promise = race.open();
      // Its handlers, bound to the race (see `Attempt.heldSucceeded`), read before its function runs: the
      // race is reachable from the call the function is given (`call.race`).
      const succeeded = race.succeed.bind(race);
      const failed = race.fail.bind(race);
      let result: Promise<unknown>;
      try {
        result = next(attempt);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified below
        result = Promise.reject(error);
      }
      try {
        result.then(succeeded, failed);
      } catch (error) {
        // What the chain returned is not a promise after all (its own `then` threw, maybe after taking
        // the callbacks above): a failure of its own, whatever those callbacks hear later.
        raceFailedLater.call(race, error);
      }
      return promise;
    };

    /** What the chain returned is not a promise after all (an object that only inherits from Promise.prototype): a failure of its own. */
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by fail()
    const notAPromise = (attempt: Attempt<T>, error: unknown): Promise<unknown> => Promise.reject(error).then(undefined, (thrown: unknown) => context.fail(attempt, thrown));

    /** The start of an attempt that is tracked, timed, retried or hedged, or published. */
    const begin = (attempt: Attempt<T>, member: Member<T>): void => {
      if (attempt.race !== undefined || context.tracksPlain || attempt.hasSignal) context.track(attempt);
      attempt.group?.tried.push(member);
      if (context.isTimed) attempt.startTimer(context.now());
      if (attemptStartChannel.hasSubscribers) {
        // Tracked one by one, as for an `onOutcome` hook, so that destroy() ends it too and its end is heard.
        if (attempt.epoch !== -1) context.track(attempt);
        attemptStartChannel.publish({ pool, call: attempt } satisfies AttemptStartMessage<T>);
      }
    };

    // No client taken: what the attempt took of the pool's limits goes back (it reached no upstream).
    const refuse = (attempt: Attempt<T>, error: unknown): Promise<unknown> => {
      context.limit?.giveBack(attempt.charged, true);
      return context.rejected(attempt, error);
    };

    /** After a wait, or for a retry or a hedge, anything can have ended the call; or the pool is closing. */
    const pickIfWanted = (attempt: Attempt<T>): Promise<unknown> => {
      try {
        attempt.checkStillWanted(context.deadlines);
        if (context.isClosing) throw context.closedError();
      } catch (error) {
        return refuse(attempt, error);
      }
      return pick(attempt);
    };

    // With calls waiting, a new one goes in line behind them, unless it comes before them all (a higher priority).
    const isFirstInLine = (priority: number): boolean => context.queue.length === 0 || priority > context.queue.headPriority;

    /** Any pick: of a call with options (a key, a height), of a retry or hedge (clients to avoid), with a cost or priority. */
    const pick = (attempt: Attempt<T>): Promise<unknown> => {
      const options = attempt.options;
      return options === EMPTY_OPTIONS ? pickWith(attempt, undefined, undefined) : pickWith(attempt, options.key, heightOf(options.minHeight));
    };

    /** `pick` with the call's `key` and `minHeight` read. */
    const pickWith = (attempt: Attempt<T>, key: string | undefined, minHeight: number | undefined): Promise<unknown> => {
      const plan = attempt.plan;
      const tried = attempt.group?.tried;
      const picked = isFirstInLine(plan.priority) ? context.roster.select(plan.balancer, tried, key, minHeight, plan.cost, plan.priority) : undefined;
      if (picked !== undefined && picked.kind === 'ready') return hold(attempt, picked.member, picked.admission);
      return afterPick(attempt, picked, tried, key, minHeight);
    };

    /** No client ready at once: refused, shed, or in line for one (FIFO, `maxWait`, its signal). */
    const afterPick = (attempt: Attempt<T>, picked: PickResult<T> | undefined, tried: Member<T>[] | undefined, key: string | undefined, minHeight: number | undefined): Promise<unknown> => {
      // The pool started closing in a callback of the pick (a balancer's, a listener's): that is why.
      if (picked !== undefined && picked.kind === 'unavailable') return refuse(attempt, context.isClosing ? context.closedError() : picked.error);
      const { roster, queue } = context;
      const { balancer, cost, priority } = attempt.plan;
      // A low-priority call is shed rather than kept waiting (or put in line behind calls that wait).
      if (priority === LOW) return refuse(attempt, new ShedError('client'));
      const signal = attempt.waitSignal();
      const maxWait = attempt.maxWait(context.deadlines);
      // Given up by its own timer past maxWait too, as a wait for a pool token is: on a clock that does not move.
      const overdue = overdueOf(attempt, maxWait, context.deadlines);
      // At the call's deadline: as itself; else the queue's own refusal (no client, no slot, no height).
      const giveUp = overdue === undefined ? undefined : { ms: overdue.ms, error: overdue.isDeadline ? () => new DeadlineExceededError(attempt.plan.deadline!) : undefined };
      return queue.wait(balancer, signal, maxWait, attempt.method, tried, key, minHeight, cost, priority, picked === undefined ? undefined : roster.lastCostDue, giveUp).then(([member, admission]) => {
        attempt.doneWaiting();
        // destroy() came between the serve and now: it released this pick by count already.
        const destroyed = Attempt.hostOf(attempt).destroyError;
        if (destroyed !== undefined) return refuse(attempt, destroyed);
        try {
          attempt.checkStillWanted(context.deadlines);
          if (context.isClosing) throw context.closedError();
        } catch (error) {
          // Served after the call was over (or the caller left): give the client back at once. It held
          // one, briefly: its start is published, so that every start has its end.
          attempt.bind(member, admission);
          if (attemptStartChannel.hasSubscribers) attemptStartChannel.publish({ pool, call: attempt } satisfies AttemptStartMessage<T>);
          context.settle(attempt, ended('cancelled', error as ClientPoolError));
          if (attempt.retryAfterFailure === undefined) throw error;
          return context.rejected(attempt, error);
        }
        return hold(attempt, member, admission);
      }, (error: unknown) => {
        attempt.doneWaiting();
        // The pool closing, or a hedge won, as themselves rather than as an abort; the deadline as itself.
        return refuse(attempt, attempt.poolReasonOf(error) ?? attempt.waitFailure(error));
      });
    };

    /**
     * The stage, and its lane (`isLaneEntry`): the first attempt of a call with no options
     * (`PoolCore.runPlain`), or of a call whose options say nothing of the pick, with nothing between this
     * stage and the function. Such an attempt has waited for nothing and asks nothing of the pick, so the
     * stage's tests are skipped; a client the roster's lane serves as it is (held, counted) is called at
     * once, and its success settled in `settleLaneSuccess`. Anything else goes on as any attempt does, from
     * the balancer's pick already made: one journey, entered further along. That is the lane closed before
     * the pick, a pick the lane did not serve, or, after it, what a callback of the pick (a balancer's, a
     * breaker's, a listener's) may have changed: the lane closed (the pool closing, calls now timed), an
     * attempt-start subscriber or an `onOutcome` hook joined.
     *
     * One function for both, over V8's inlining limit (460 bytes of bytecode) on purpose: compiled on its
     * own, the lane inlines the pick, the breaker, the user's function and the promise checks within its
     * own budget. As a smaller function, in an esbuild bundle V8 inlined it into the small function that
     * calls `run()`, whose budget it spent, leaving those as calls: about 7 % slower per default call
     * (bench/README.md; the tsc build loaded as modules showed no difference either way).
     */
    const pickStep = (attempt: Attempt<T>, isLaneEntry: boolean): Promise<unknown> => {
      const roster = context.roster;
      if (isLaneEntry && roster.lane !== 0) {
        const member = roster.laneMember(attempt.plan.balancer);
        // A pick the lane did not serve (it fell back to `select`, which may half-open a circuit: a probe) is
        // held as any pick is: the lane's own attempts are all normal calls, a constant its bind and settle fold.
        if (member === undefined) {
          const missed = roster.missed;
          return missed.kind === 'ready' ? hold(attempt, missed.member, missed.admission) : afterPick(attempt, missed, undefined, undefined, undefined);
        }
        if (roster.lane === 0 || attemptStartChannel.hasSubscribers || context.tracksPlain) return hold(attempt, member, 'call');
        attempt.bind(member, 'call');
        let result: Promise<unknown>;
        try {
          // Called directly, not through `invokeStep`: the lane open after the pick, nothing can keep a new
          // attempt from its function (closing and destroy() close the lane first).
          result = asPromise(attempt.invoke());
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified below
          result = Promise.reject(error);
        }
        try {
          return result.then(laneSucceeded.bind(attempt), heldFailed.bind(attempt));
        } catch (error) {
          return notAPromise(attempt, error);
        }
      }
      // Reached at once from run(), nothing can have ended the call; after a wait, anything can have.
      if (attempt.hasWaited || attempt.group !== undefined || context.isClosing) return pickIfWanted(attempt);
      // Options that say nothing of the pick (a timeout, a signal, a method): as plain a pick as none.
      const options = attempt.options;
      const key = options === EMPTY_OPTIONS ? undefined : options.key;
      const minHeight = options === EMPTY_OPTIONS ? undefined : heightOf(options.minHeight);
      if (key !== undefined || minHeight !== undefined || !attempt.plan.isPlainPick || !isFirstInLine(NORMAL)) return pickWith(attempt, key, minHeight);
      // First in line, nothing to pass on but its plan's.
      const picked = roster.selectPlain(attempt.plan.balancer);
      return picked.kind === 'ready' ? hold(attempt, picked.member, picked.admission) : afterPick(attempt, picked, undefined, undefined, undefined);
    };

    const step: Step<T> = (attempt) => pickStep(attempt, false);
    if (!isLast) return step;

    /** The lane for a call with no options whose plan is a plain pick (`entriesOf`). */
    const lane: Step<T> = (attempt) => pickStep(attempt, true);

    /**
     * The lane for the first attempt of a call with options, when nothing can end it early (`#run` sends
     * raced ones elsewhere) and its options say nothing of the pick (no `key` or `minHeight`, a plain cost
     * and priority): as plain a pick as none.
     */
    const firstLane: Step<T> = (attempt) => {
      const options = attempt.options;
      return pickStep(attempt, attempt.plan.isPlainPick && options.key === undefined && options.minHeight === undefined);
    };
    return Object.assign(step, { lane, firstLane });
  };
}

/** A composed chain whose first stage is the pick right before the function: its lanes. */
interface Laned<T> {
  readonly lane?: Step<T>;
  readonly firstLane?: Step<T>;
}

/**
 * Where a pool's calls enter `chain`, its pipeline for attempts nothing can end early: a call with no
 * options whose plan (`plain`) is a plain pick, and the first attempt of a call with options. The pick
 * stage's lanes when it comes right before the function and no `onOutcome` hook hears of attempts (those
 * are tracked one by one, which the lanes skip); the chain itself otherwise.
 */
export function entriesOf<T>(chain: Step<T>, hasObservers: boolean, plain: Plan<T> | undefined): { readonly plain: Step<T>; readonly first: Step<T> } {
  const lanes = hasObservers ? undefined : (chain as Laned<T>);
  return { plain: (plain?.isPlainPick === true ? lanes?.lane : undefined) ?? chain, first: lanes?.firstLane ?? chain };
}
