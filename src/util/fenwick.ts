/**
 * A Fenwick (binary indexed) tree of non-negative weights: set a weight and find the index that owns a
 * point of the cumulative sum, both in O(log n). It is what makes weighted random selection O(log n)
 * without rebuilding anything per call.
 */
export class FenwickTree {
  #tree = new Float64Array(16);
  #values = new Float64Array(16);
  #total = 0;

  get total(): number {
    return this.#total;
  }

  get(index: number): number {
    return this.#values[index] ?? 0;
  }

  set(index: number, weight: number): void {
    if (index >= this.#values.length) this.#grow(index + 1);
    const delta = weight - this.#values[index]!;
    if (delta === 0) return;
    this.#values[index] = weight;
    this.#total += delta;
    const tree = this.#tree;
    for (let i = index + 1; i <= tree.length; i += i & -i) tree[i - 1]! += delta;
  }

  /** The smallest index whose cumulative sum exceeds `point` (0 <= point < total). */
  find(point: number): number {
    const tree = this.#tree;
    let position = 0;
    let remaining = point;
    for (let step = highestPowerOfTwo(tree.length); step > 0; step >>= 1) {
      const next = position + step;
      if (next <= tree.length && tree[next - 1]! <= remaining) {
        position = next;
        remaining -= tree[next - 1]!;
      }
    }
    // Float rounding can walk past the last positive weight; step back to it.
    while (position > 0 && position >= this.#values.length) position--;
    while (position > 0 && this.#values[position] === 0) position--;
    return position;
  }

  #grow(minimum: number): void {
    let size = this.#values.length;
    while (size < minimum) size *= 2;
    const values = this.#values;
    this.#values = new Float64Array(size);
    this.#tree = new Float64Array(size);
    this.#total = 0;
    for (let i = 0; i < values.length; i++) if (values[i]! > 0) this.set(i, values[i]!);
  }
}

function highestPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
