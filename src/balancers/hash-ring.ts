import { integerAtLeast } from '../validate.js';

/** FNV-1a, 32 bits, then murmur3's avalanche: fast and well spread for short keys; not for security. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Without the avalanche, keys differing only in their last characters would land close together.
  return fmix32(hash);
}

/** murmur3's finaliser: a bijection on 32 bits in which every input bit flips about half the output bits. */
function fmix32(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A second, independent hash of a name, so that two names sharing one 32-bit hash still get different points. */
const STEP_SEED = 0x9e3779b9;

/**
 * A consistent-hash ring with virtual nodes: each member owns `replicas` points, a key goes to the first
 * point at or after its hash. Adding or removing one of n members moves about 1/n of the keys.
 * Lookup is a binary search, O(log(n·replicas)).
 *
 * Built in O(n·replicas) with no string and no object per point: a member's name is hashed twice and its
 * points derived from those two hashes by integer mixing, then the (point, owner) pairs are radix-sorted
 * in one typed array. 10 000 members of 100 points each build in about 20-30 ms.
 */
export class HashRing<M extends { readonly name: string }> {
  /** Pairs (point, index in `#members` of its owner), ascending by point. */
  readonly #pairs: Uint32Array;
  /** Members sorted by name, so that equal points go to the same owner whatever the insertion order. */
  readonly #members: M[];

  /** @param replicas points per member; more spread keys more evenly (shares differ by about 1/sqrt(replicas)). @default 100 */
  constructor(members: Iterable<M>, replicas = 100) {
    integerAtLeast('replicas', replicas, 1);
    const sorted = [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const pairs = new Uint32Array(2 * sorted.length * replicas);
    let at = 0;
    for (let m = 0; m < sorted.length; m++) {
      const name = sorted[m]!.name;
      const base = fnv1a(name);
      const step = fnv1a(name, STEP_SEED) | 1;
      for (let i = 0; i < replicas; i++, at += 2) {
        pairs[at] = fmix32((base + Math.imul(i, step)) | 0);
        pairs[at + 1] = m;
      }
    }
    this.#pairs = sortPairs(pairs);
    this.#members = sorted;
  }

  /** The owner of `key`, or the next one clockwise that `accept`s, or undefined if none does. */
  find(key: string, accept: (member: M) => boolean): M | undefined {
    const pairs = this.#pairs;
    const n = pairs.length >>> 1;
    if (n === 0) return undefined;
    const hash = fnv1a(key);
    let low = 0;
    let high = n;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (pairs[2 * mid]! < hash) low = mid + 1;
      else high = mid;
    }
    for (let k = 0; k < n; k++) {
      const owner = this.#members[pairs[2 * ((low + k) % n) + 1]!]!;
      if (accept(owner)) return owner;
    }
    return undefined;
  }
}

/**
 * Sort (key, value) pairs laid out flat in `pairs` by key: a stable LSD radix sort in two passes of 16
 * bits, O(n). Equal keys keep their input order. Pairs sit side by side so that each move touches one
 * cache line, not two; that halves the cost of the random writes which dominate the sort.
 */
function sortPairs(pairs: Uint32Array): Uint32Array {
  const other = new Uint32Array(pairs.length);
  const starts = new Uint32Array(0x10000);
  radixPass(pairs, other, 0, starts);
  radixPass(other, pairs, 16, starts);
  return pairs;
}

function radixPass(from: Uint32Array, to: Uint32Array, shift: number, starts: Uint32Array): void {
  starts.fill(0);
  const length = from.length;
  for (let i = 0; i < length; i += 2) starts[(from[i]! >>> shift) & 0xffff]!++;
  let sum = 0;
  for (let digit = 0; digit < 0x10000; digit++) {
    const count = starts[digit]!;
    starts[digit] = sum;
    sum += 2 * count;
  }
  for (let i = 0; i < length; i += 2) {
    const key = from[i]!;
    const digit = (key >>> shift) & 0xffff;
    const at = starts[digit]!;
    starts[digit] = at + 2;
    to[at] = key;
    to[at + 1] = from[i + 1]!;
  }
}
