import { FenwickTree } from '../util/fenwick.js';
import type { Balancer, BalancerContext } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * A random ready member with probability proportional to its weight. A Fenwick tree over member slots
 * makes a pick O(log n) with no allocation, where the original summed all weights on every call.
 */
export function weightedRandom<T>({ random }: BalancerContext): Balancer<T> {
  const weights = new FenwickTree();
  const bySlot: (PoolMember<T> | undefined)[] = [];
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      const member = bySlot[weights.find(random() * weights.total)];
      return member ?? ready[0]!;
    },
    onReady(member) {
      bySlot[member.slot] = member;
      weights.set(member.slot, member.weight);
    },
    onUnready(member) {
      bySlot[member.slot] = undefined;
      weights.set(member.slot, 0);
    },
  };
}
