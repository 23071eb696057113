import { AbortedError, DeadlineExceededError, type ClientPoolError } from '../errors.js';
import type { DeadlineList, DeadlineQueue, Timed } from './deadlines.js';
import { SignalWatch, type SignalWatches, type Watcher } from './signal-watch.js';

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
    const held = new HeldCall(this.#held, this.#deadlines);
    this.#held.add(held);
    if (plan.deadline !== undefined && plan.deadlineAt !== undefined) {
      held.deadlineMs = plan.deadline;
      this.#deadlines.add(held, Math.max(0, plan.deadlineAt - this.#deadlines.now()));
    }
    if (signal !== undefined) this.#signals.join(signal, held);
    return held;
  }

  /** The pool closes: every held call ends with `error`. */
  end(error: ClientPoolError): void {
    for (const held of [...this.#held]) held.end(error);
  }
}

/** One call in its hooks: released when they call the innermost `next()`, or ended (aborted, timed out, closed) before. */
export class HeldCall implements Watcher, Timed {
  watchPrev: Watcher | undefined = undefined;
  watchNext: Watcher | undefined = undefined;
  watched: SignalWatch | undefined = undefined;
  deadline = 0;
  deadlineList: DeadlineList | undefined = undefined;
  deadlinePrev: Timed | undefined = undefined;
  deadlineNext: Timed | undefined = undefined;
  /** The call's deadline in ms from `run()`, when it has one. */
  deadlineMs = 0;
  readonly #held: Set<HeldCall>;
  readonly #deadlines: DeadlineQueue;
  /** Rejects the caller's promise, once `settle` made it and until the call is released or ended. */
  #reject: ((error: unknown) => void) | undefined = undefined;
  /** The error it was ended with (aborted, timed out, closed): what a late `next()` gets too. */
  #ended: ClientPoolError | undefined = undefined;
  #isDone = false;

  constructor(held: Set<HeldCall>, deadlines: DeadlineQueue) {
    this.#held = held;
    this.#deadlines = deadlines;
  }

  /** The hooks called the innermost `next()`: the pipeline holds the call from now on. */
  release(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#held.delete(this);
    SignalWatch.leave(this);
    this.#deadlines.remove(this);
    this.#reject = undefined;
  }

  aborted(reason: unknown): void {
    this.end(new AbortedError(reason));
  }

  expire(): void {
    this.end(new DeadlineExceededError(this.deadlineMs));
  }

  /** The error the call was ended with before its hooks called `next()`; undefined while held or once released. */
  get endedWith(): ClientPoolError | undefined {
    return this.#ended;
  }

  /** End the call now with `error`, if its hooks have not called `next()` yet. */
  end(error: ClientPoolError): void {
    if (this.#isDone) return;
    const reject = this.#reject;
    this.release();
    this.#ended = error;
    reject?.(error);
  }

  /** The caller's promise: what the hooks answer (`result`), or the error the call was ended with first. */
  settle(result: Promise<unknown>): Promise<unknown> {
    if (this.#ended !== undefined) {
      result.catch(noop);
      return Promise.reject(this.#ended);
    }
    // Released already (a hook that calls next() at once, the usual one): the hooks' promise as it is.
    if (this.#isDone) return result;
    return new Promise((resolve, reject) => {
      this.#reject = reject;
      result.then(
        (value) => {
          this.release();
          resolve(value);
        },
        (error: unknown) => {
          this.release();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the hooks' error, as the caller gets it
          reject(error);
        },
      );
    });
  }
}

function noop(): void {}
