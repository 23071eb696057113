import { CallbackError } from './errors.js';
import type { Member } from './member.js';
import { isThenable, type CallbackGuard } from './pipeline/guard.js';
import type { Roster } from './roster.js';

/** What removals need of the pool: the signal of `destroy()`, which bounds close hooks, and the warnings. */
export interface RemovalsHost {
  /** Aborted by `destroy()` (and by `close({ signal })` when its signal aborts). */
  readonly poolSignal: AbortSignal;
  readonly guard: CallbackGuard;
  /** Every client's height: the head may rest on a removed client's. */
  readonly heights: { update(): void };
  /** Whether the pool is closing: its clients leave one by one, and the head is not worth working out again. */
  readonly isClosing: boolean;
}

/**
 * The lifecycle of a removed client: out of the rotation at once, drained of its calls in flight, then
 * its slot freed and its `close` hook run. `close()` waits for every removal under way. Close hooks (a
 * client's, a middleware's, the limit's) are bounded by `destroy()`: one still pending then is given up.
 */
export class Removals<T> {
  readonly #roster: Roster<T>;
  readonly #host: RemovalsHost;
  readonly #draining = new Map<Member<T>, Promise<void>>();

  constructor(roster: Roster<T>, host: RemovalsHost) {
    this.#roster = roster;
    this.#host = host;
  }

  /** Members removed whose calls are still in flight. */
  get draining(): Iterable<Member<T>> {
    return this.#draining.keys();
  }

  /** Every removal under way, settled. */
  settled(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.#draining.values());
  }

  remove(member: Member<T>): Promise<void> {
    this.#roster.detach(member);
    if (member.height >= 0 && !this.#host.isClosing) this.#host.heights.update();
    const removal = this.#drain(member);
    this.#draining.set(member, removal);
    const forget = (): void => void this.#draining.delete(member);
    removal.then(forget, forget);
    return removal;
  }

  /**
   * Run a close hook: resolves when it has, rejects with what it threw or rejected with. Once the pool is
   * destroyed, a hook still pending is given up (hung on a dead socket, say): it is reported as a
   * `CallbackError` through the pool's warnings (`CLIENTPOOL_CALLBACK_ERROR`) and counts as done, so
   * `destroy()` and a `close({ signal })` whose signal aborted resolve. A hook started after that is given
   * up at the next turn of the event loop, so one that settles at once is not reported.
   */
  hook(name: string, run: () => unknown): Promise<void> {
    let pending: Promise<unknown>;
    try {
      const result = run();
      if (result === undefined || !isThenable(result)) return Promise.resolve();
      pending = Promise.resolve(result);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- collected into close()'s AggregateError as it was thrown
      return Promise.reject(error);
    }
    const bound = this.#host.poolSignal;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = (): void => {
        this.#host.guard.warn(name, new CallbackError(name, 'had not settled when the pool was destroyed: given up'), 'The pool closed without waiting for it any longer.');
        resolve();
      };
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        bound.removeEventListener('abort', giveUp);
      };
      pending.then(
        () => {
          done();
          resolve();
        },
        (error: unknown) => {
          done();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- collected into close()'s AggregateError as it was
          reject(error);
        },
      );
      if (bound.aborted) timer = setTimeout(giveUp, 0);
      else bound.addEventListener('abort', giveUp, { once: true });
    });
  }

  async #drain(member: Member<T>): Promise<void> {
    // A turn first: a removal from inside a pick (a state-change listener) lets that pick see it is gone.
    await Promise.resolve();
    if (member.inFlight > 0) await new Promise<void>((resolve) => (member.drained = resolve));
    this.#roster.freeSlot(member);
    const close = member.close;
    if (close !== undefined) await this.hook(`the close hook of client "${member.name}"`, () => close(member.client));
  }
}
