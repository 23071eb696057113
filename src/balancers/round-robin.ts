import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/** Each ready member in turn: O(1). */
export function roundRobin<T>(): Balancer<T> {
  let next = 0;
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      if (next >= ready.length) next = 0;
      return ready[next++]!;
    },
  };
}
