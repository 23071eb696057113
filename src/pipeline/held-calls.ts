import { AbortedError, DeadlineExceededError, type ClientPoolError } from '../errors.js';
import { isDue, type DeadlineList, type DeadlineQueue, type Timed } from './deadlines.js';
import { SignalWatch, type SignalWatches, type Watcher } from './signal-watch.js';
import { cancelAfterIO, runAfterIO, type AfterIOHandle } from '../util/host.js';

/** A call's deadline as its plan holds it: ms from `run()`, and when that is on the deadline queue's clock. */
export interface HeldDeadline {
  readonly deadline: number | undefined;
  readonly deadlineAt: number | undefined;
}

/**
 * Calls inside their `around` hooks before the innermost `next()`: no stage holds them yet, so their
 * caller's abort, their deadline and the pool's close reach them here. A held call whose caller's signal
 * aborts rejects with `AbortedError` at once, one whose `deadline` (from `run()`) passes with
 * `DeadlineExceededError`, and `close()` (so `destroy()` too) ends every held call with
 * `PoolClosedError`, as it ends calls waiting for a token or a client: close() waits for attempts in
 * flight, not for hooks. A hook that goes on later runs its `next()` into that refusal, which nobody waits for.
 */
export class HeldCalls {
  readonly #signals: SignalWatches;
  readonly #deadlines: DeadlineQueue;
  readonly #held = new Set<HeldCall>();
  /** Calls past `next()`, their hooks yet to answer. */
  readonly #inside = new Set<HeldCall>();

  constructor(signals: SignalWatches, deadlines: DeadlineQueue) {
    this.#signals = signals;
    this.#deadlines = deadlines;
  }

  /** Calls held now. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * Hold a call whose hooks are about to run; `signal` is its caller's (one listener per signal, shared),
   * `plan` holds its deadline (on the shared deadline queue: no timer of its own).
   */
  hold(signal: AbortSignal | undefined, plan: HeldDeadline): HeldCall {
    const held = new HeldCall(this.#held, this.#inside, this.#deadlines);
    // The signal first: a listener that cannot be added (an `addEventListener` that throws) leaves nothing held or queued.
    if (signal !== undefined) {
      this.#signals.join(signal, held);
      // Aborted already: it heard so at once, and ended.
      if (held.endedWith !== undefined) return held;
    }
    this.#held.add(held);
    if (plan.deadline !== undefined && plan.deadlineAt !== undefined) {
      held.deadlineMs = plan.deadline;
      held.deadlineAt = plan.deadlineAt;
      this.#deadlines.add(held, Math.max(0, plan.deadlineAt - this.#deadlines.now()));
    }
    return held;
  }

  /**
   * Calls past `next()`, their hooks yet to answer: what the deadline queue keeps when the pool has closed
   * (`DeadlineQueue.clear`), those with a deadline each on the timer already set for it.
   */
  get inside(): ReadonlySet<HeldCall> {
    return this.#inside;
  }

  /** The pool closes: every held call ends with `error`. */
  end(error: ClientPoolError): void {
    for (const held of [...this.#held]) held.end(error);
  }

  /**
   * The pool is destroyed: every call past `next()` whose hooks have not answered ends with `error` one
   * turn of the loop later (its attempts, ended now, have that turn to pass their error through the hooks).
   */
  endInside(error: ClientPoolError): void {
    for (const call of [...this.#inside]) call.endInside(error);
  }
}

/** How long after the call's deadline its own entry comes once past `next()`: attempts arm theirs in whole ms. */
const AFTER_ATTEMPTS_MS = 2;

/** Where a call is in its hooks: before the innermost `next()`, after it (its hooks yet to answer), or settled. */
const HELD = 0;
const INSIDE = 1;
const DONE = 2;

/**
 * One call in its hooks: held until they call the innermost `next()`, or ended (aborted, timed out,
 * closed) before. After `next()` the pipeline has the call: its abort and deadline end its attempts,
 * and the hooks pass that on. A call with a signal or a deadline stays watched until its hooks answer,
 * as a last resort: a hook that hangs after `next()` (a slow flush, a fallback) lets its caller go one
 * turn of the event loop after the abort, or 2 ms after the deadline (`AFTER_ATTEMPTS_MS`) and a turn,
 * the pipeline's own error having had the time to arrive first, even once the pool has closed
 * (the queue keeps it: `HeldCalls.inside`). `close()` waits for the attempt, not for the hook, and ends only calls
 * before `next()`; `destroy()` ends every call past it too, one turn after it ended their attempts.
 */
export class HeldCall implements Watcher, Timed {
  watchPrev: Watcher | undefined = undefined;
  watchNext: Watcher | undefined = undefined;
  watched: SignalWatch | undefined = undefined;
  deadline = 0;
  deadlineList: DeadlineList | undefined = undefined;
  deadlinePrev: Timed | undefined = undefined;
  deadlineNext: Timed | undefined = undefined;
  /** The call's deadline in ms from `run()`, and when it is on the deadline queue's clock, when it has one. */
  deadlineMs = 0;
  deadlineAt = 0;
  readonly #held: Set<HeldCall>;
  readonly #inside: Set<HeldCall>;
  readonly #deadlines: DeadlineQueue;
  /** Rejects the caller's promise, once `settle` made it and until the call is settled or ended. */
  #reject: ((error: unknown) => void) | undefined = undefined;
  /** The error it was ended with (aborted, timed out, closed): what a late `next()` gets too. */
  #ended: ClientPoolError | undefined = undefined;
  #phase: typeof HELD | typeof INSIDE | typeof DONE = HELD;
  /** The end put off by one turn of the loop (after `next()`), until the hooks answer. */
  #lastResort: AfterIOHandle | undefined = undefined;

  constructor(held: Set<HeldCall>, inside: Set<HeldCall>, deadlines: DeadlineQueue) {
    this.#held = held;
    this.#inside = inside;
    this.#deadlines = deadlines;
  }

  /** The hooks called the innermost `next()`: the pipeline has the call from now on (`close()` waits for it). */
  release(): void {
    if (this.#phase !== HELD) return;
    this.#phase = INSIDE;
    this.#held.delete(this);
    // Every call, watched or not: destroy() ends it if its hooks hang (`HeldCalls.endInside`).
    this.#inside.add(this);
    if (this.deadlineList === undefined) return;
    // After the attempts' own deadline entries, which are armed in whole ms (at most 1 ms past the call's
    // deadline): the pipeline's error, passed on by the hooks, comes first.
    this.#deadlines.remove(this);
    this.#deadlines.add(this, Math.max(0, Math.ceil(this.deadlineAt - this.#deadlines.now())) + AFTER_ATTEMPTS_MS);
  }

  /** The pool is destroyed: a call past `next()` ends one turn of the loop later unless its hooks answer first. */
  endInside(error: ClientPoolError): void {
    if (this.#phase === INSIDE) this.#endOrLater(error);
  }

  aborted(reason: unknown): void {
    this.#endOrLater(new AbortedError(reason));
  }

  expire(): void {
    this.#endOrLater(new DeadlineExceededError(this.deadlineMs));
  }

  /** The error the call was ended with before its hooks called `next()`; undefined while held or once released. */
  get endedWith(): ClientPoolError | undefined {
    return this.#ended;
  }

  /**
   * The error the call ended with, ending it first if its end has come without reaching it yet: its
   * signal aborted, the pool closing (`closed`, else undefined) or its deadline due, with a listener of
   * that same abort, close or expiry run first (one that calls `next()`). Undefined while it may go on.
   */
  endIfDue(signal: AbortSignal | undefined, closed: () => ClientPoolError | undefined): ClientPoolError | undefined {
    if (this.#phase !== HELD) return this.#ended;
    if (signal !== undefined && signal.aborted) this.end(new AbortedError(signal.reason));
    else {
      const error = closed() ?? (isDue(this) ? new DeadlineExceededError(this.deadlineMs) : undefined);
      if (error !== undefined) this.end(error);
    }
    return this.#ended;
  }

  /** End the call now with `error`, if its hooks have not called `next()` yet. */
  end(error: ClientPoolError): void {
    if (this.#phase === HELD) this.#endNow(error);
  }

  /** The caller's promise: what the hooks answer (`result`), or the error the call was ended with first. */
  settle(result: Promise<unknown>): Promise<unknown> {
    if (this.#ended !== undefined) {
      result.catch(noop);
      return Promise.reject(this.#ended);
    }
    return new Promise((resolve, reject) => {
      this.#reject = reject;
      result.then(
        (value) => {
          this.#finish();
          resolve(value);
        },
        (error: unknown) => {
          this.#finish();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the hooks' error, as the caller gets it
          reject(error);
        },
      );
    });
  }

  /** Before `next()`, at once; after it, one turn of the loop later unless the hooks answer first. */
  #endOrLater(error: ClientPoolError): void {
    if (this.#phase === HELD) this.#endNow(error);
    else if (this.#phase === INSIDE) this.#lastResort ??= runAfterIO(() => this.#endNow(error));
  }

  #endNow(error: ClientPoolError): void {
    if (this.#phase === DONE) return;
    const reject = this.#reject;
    this.#finish();
    this.#ended = error;
    reject?.(error);
  }

  #finish(): void {
    this.#phase = DONE;
    this.#held.delete(this);
    this.#inside.delete(this);
    SignalWatch.leave(this);
    this.#deadlines.remove(this);
    this.#reject = undefined;
    if (this.#lastResort !== undefined) cancelAfterIO(this.#lastResort);
    this.#lastResort = undefined;
  }
}

function noop(): void {}
