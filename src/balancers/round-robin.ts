import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/** Each ready member in turn: O(1). A plain object whose `pick` may be called detached, or spread into another balancer. */
export function roundRobin<T>(): Balancer<T> {
  const balancer = new RoundRobin<T>();
  return { pick: (ready) => balancer.pick(ready) };
}

/**
 * The round robin of the strategy `'round-robin'`, which the pool makes and keeps: it returns one of the
 * members it is given by construction (a non-empty `ready`), so the roster takes its pick unchecked
 * (`Roster.selectPlain`). A class, not a closure over `next`: a field is read and written without the hole
 * check a closure's `let` takes.
 */
export class RoundRobin<T> implements Balancer<T> {
  #next = 0;

  pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
    return this.pickMember(ready);
  }

  /** `pick`, typed for the roster's own members. */
  pickMember<M extends PoolMember<T>>(ready: readonly M[]): M {
    // Its turn read and written once.
    const next = this.#next < ready.length ? this.#next : 0;
    this.#next = next + 1;
    return ready[next]!;
  }
}

/** The strategy `'round-robin'`'s factory: the pool's own round robin. */
export function ownRoundRobin<T>(): Balancer<T> {
  return new RoundRobin<T>();
}
