/** FNV-1a, 32 bits: fast and well spread for short keys; not for security. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32), so that keys differing in their last characters spread too.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A consistent-hash ring with virtual nodes: each member owns `replicas` points, a key goes to the first
 * point at or after its hash. Adding or removing one of n members moves about 1/n of the keys.
 * Lookup is a binary search, O(log(n·replicas)).
 */
export class HashRing<M extends { readonly name: string }> {
  readonly #points: Uint32Array;
  readonly #owners: M[];

  constructor(members: Iterable<M>, replicas = 100) {
    const entries: [number, M][] = [];
    for (const member of members) for (let i = 0; i < replicas; i++) entries.push([fnv1a(`${member.name}#${i}`), member]);
    entries.sort((a, b) => a[0] - b[0] || (a[1].name < b[1].name ? -1 : 1));
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owners = entries.map((e) => e[1]);
  }

  /** The owner of `key`, or the next one clockwise that `accept`s, or undefined if none does. */
  find(key: string, accept: (member: M) => boolean): M | undefined {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return undefined;
    const hash = fnv1a(key);
    let low = 0;
    let high = n;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    for (let k = 0; k < n; k++) {
      const owner = this.#owners[(low + k) % n]!;
      if (accept(owner)) return owner;
    }
    return undefined;
  }
}
