import type { Member } from './member.js';
import type { Roster } from './roster.js';

/**
 * The lifecycle of a removed client: out of the rotation at once, drained of its calls in flight, then
 * its slot freed and its `close` hook run. `close()` waits for every removal under way.
 */
export class Removals<T> {
  readonly #roster: Roster<T>;
  readonly #draining = new Map<Member<T>, Promise<void>>();

  constructor(roster: Roster<T>) {
    this.#roster = roster;
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
    const removal = this.#drain(member);
    this.#draining.set(member, removal);
    const forget = (): void => void this.#draining.delete(member);
    removal.then(forget, forget);
    return removal;
  }

  async #drain(member: Member<T>): Promise<void> {
    // A turn first: a removal from inside a pick (a state-change listener) lets that pick see it is gone.
    await Promise.resolve();
    if (member.inFlight > 0) await new Promise<void>((resolve) => (member.drained = resolve));
    this.#roster.freeSlot(member);
    await member.close?.(member.client);
  }
}
