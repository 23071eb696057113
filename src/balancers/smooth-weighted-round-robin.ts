import { heapNode, IndexedHeap, type HeapNode } from '../util/indexed-heap.js';
import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * Deterministic weighted rotation that interleaves members (weights 5:1:1 give `a a a b c a a`, not five
 * `a` in a row), as nginx's smooth weighted round robin does. Implemented as stride scheduling: each
 * member has a virtual deadline that advances by 1/weight when picked, and the earliest deadline wins,
 * O(log n) instead of nginx's O(n) scan. A member that becomes ready joins at the current virtual time,
 * so a client coming back does not receive a burst to "catch up".
 */
export function smoothWeightedRoundRobin<T>(): Balancer<T> {
  const heap = new IndexedHeap<PoolMember<T>>();
  const nodes: (HeapNode<PoolMember<T>> | undefined)[] = [];
  let virtualTime = 0;
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      const node = heap.peek();
      if (node === undefined) return ready[0]!;
      virtualTime = node.key;
      node.key += 1 / node.value.weight;
      heap.update(node);
      return node.value;
    },
    onReady(member) {
      const node = heapNode(member, virtualTime + 0.5 / member.weight, member.slot);
      nodes[member.slot] = node;
      heap.push(node);
    },
    onUnready(member) {
      const node = nodes[member.slot];
      if (node !== undefined) heap.remove(node);
      nodes[member.slot] = undefined;
    },
  };
}
