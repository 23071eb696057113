import { heapNode, IndexedHeap, type HeapNode } from '../util/indexed-heap.js';
import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * The ready member with the fewest calls in flight; ties go to the one picked least recently, so idle
 * members share the load in turn. A heap keyed on in-flight keeps each pick and update O(log n).
 */
export function leastInFlight<T>(): Balancer<T> {
  const heap = new IndexedHeap<PoolMember<T>>();
  const nodes: (HeapNode<PoolMember<T>> | undefined)[] = [];
  let sequence = 0;
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      const node = heap.peek();
      if (node === undefined) return ready[0]!;
      node.tie = ++sequence;
      heap.update(node);
      return node.value;
    },
    onReady(member) {
      const node = heapNode(member, member.inFlight, ++sequence);
      nodes[member.slot] = node;
      heap.push(node);
    },
    onUnready(member) {
      const node = nodes[member.slot];
      if (node !== undefined) heap.remove(node);
      nodes[member.slot] = undefined;
    },
    onInFlight(member) {
      const node = nodes[member.slot];
      if (node === undefined) return;
      node.key = member.inFlight;
      heap.update(node);
    },
  };
}
