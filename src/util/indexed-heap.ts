/** A node of an {@link IndexedHeap}: ordered by `key`, then `tie`; `index` is kept by the heap (-1 when out). */
export interface HeapNode<V> {
  readonly value: V;
  key: number;
  tie: number;
  index: number;
}

/** Create a node that is not yet in a heap. */
export function heapNode<V>(value: V, key = 0, tie = 0): HeapNode<V> {
  return { value, key, tie, index: -1 };
}

/**
 * A binary min-heap whose nodes know their position, so a node's key can change or a node can leave
 * in O(log n). Balancers and the pool's cooling list use it to stay O(log n) in the number of clients.
 */
export class IndexedHeap<V> {
  readonly #nodes: HeapNode<V>[] = [];

  get size(): number {
    return this.#nodes.length;
  }

  peek(): HeapNode<V> | undefined {
    return this.#nodes[0];
  }

  /** The values now in the heap, in no particular order (a copy). */
  values(): V[] {
    return this.#nodes.map((node) => node.value);
  }

  has(node: HeapNode<V>): boolean {
    return node.index >= 0 && this.#nodes[node.index] === node;
  }

  push(node: HeapNode<V>): void {
    node.index = this.#nodes.length;
    this.#nodes.push(node);
    this.#up(node.index);
  }

  pop(): HeapNode<V> | undefined {
    const top = this.#nodes[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(node: HeapNode<V>): void {
    const i = node.index;
    if (!this.has(node)) return;
    const last = this.#nodes.pop()!;
    node.index = -1;
    if (last === node) return;
    this.#nodes[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  /** Restore order after `node.key` or `node.tie` changed. */
  update(node: HeapNode<V>): void {
    if (!this.has(node)) return;
    this.#up(node.index);
    this.#down(node.index);
  }

  #less(a: HeapNode<V>, b: HeapNode<V>): boolean {
    return a.key < b.key || (a.key === b.key && a.tie < b.tie);
  }

  #up(i: number): void {
    const nodes = this.#nodes;
    const node = nodes[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = nodes[parentIndex]!;
      if (!this.#less(node, parent)) break;
      nodes[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    nodes[i] = node;
    node.index = i;
  }

  #down(i: number): void {
    const nodes = this.#nodes;
    const n = nodes.length;
    const node = nodes[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#less(nodes[right]!, nodes[left]!) ? right : left;
      const childNode = nodes[child]!;
      if (!this.#less(childNode, node)) break;
      nodes[i] = childNode;
      childNode.index = i;
      i = child;
    }
    nodes[i] = node;
    node.index = i;
  }
}
