import type { Balancer, BalancerContext } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * A uniformly random ready member: O(1). Unlike the original, which picked among all clients and failed
 * when it hit an open one, it only ever draws from the ready ones.
 */
export function randomBalancer<T>({ random }: BalancerContext): Balancer<T> {
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      return ready[Math.floor(random() * ready.length)]!;
    },
  };
}
