import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/** Each ready member in turn: O(1). */
export function roundRobin<T>(): Balancer<T> {
  return new RoundRobin<T>();
}

/** A class, not a closure over `next`: a field is read and written without the hole check a closure's `let` takes. */
export class RoundRobin<T> implements Balancer<T> {
  #next = 0;

  pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
    return this.pickMember(ready);
  }

  /** `pick`, typed for the roster's own members: one of `ready` (non-empty) by construction. */
  pickMember<M extends PoolMember<T>>(ready: readonly M[]): M {
    if (this.#next >= ready.length) this.#next = 0;
    return ready[this.#next++]!;
  }
}
