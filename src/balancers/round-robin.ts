import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/** Each ready member in turn: O(1). */
export function roundRobin<T>(): Balancer<T> {
  return new RoundRobin<T>();
}

/** A class, not a closure over `next`: a field is read and written without the hole check a closure's `let` takes. */
class RoundRobin<T> implements Balancer<T> {
  #next = 0;

  pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
    if (this.#next >= ready.length) this.#next = 0;
    return ready[this.#next++]!;
  }
}
