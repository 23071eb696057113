import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a, HashRing } from '../../src/balancers/hash-ring.js';
import { InvalidOptionError } from '../../src/errors.js';

interface Member {
  readonly name: string;
}

const keys = Array.from({ length: 4_000 }, (_, i) => `user-${i}`);
const members = (names: readonly string[]): Member[] => names.map((name) => ({ name }));
const any = (): boolean => true;

/** The owner's name of every key. */
function owners(ring: HashRing<Member>, accept: (m: Member) => boolean = any): (string | undefined)[] {
  return keys.map((key) => ring.find(key, accept)?.name);
}

/** A set of distinct member names and one more name not in it. */
const namesAndOneMore = fc
  .uniqueArray(fc.string({ maxLength: 12 }), { minLength: 2, maxLength: 41 })
  .map((names) => ({ names: names.slice(1), extra: names[0]! }));

const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5;

/** Plain 32-bit FNV-1a over UTF-16 code units, without the final mix. */
function rawFnv1a(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return hash;
}

/** murmur3's fmix32, in BigInt so that it shares no integer trick with the code under test. */
function fmix32(hash: number): number {
  const mask = 0xffffffffn;
  let h = BigInt(hash >>> 0);
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & mask;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & mask;
  h ^= h >> 16n;
  return Number(h);
}

/**
 * A key whose FNV-1a state before the final mix is `target`: a prefix, then two UTF-16 code units found by
 * running FNV-1a backwards from `target` (the prime is odd, so multiplying by it can be undone).
 */
function keyWithRawHash(target: number): string {
  let inverse = FNV_PRIME;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(FNV_PRIME, inverse));
  // The state after the first unit, xor the second, must be this.
  const beforeLast = Math.imul(target, inverse) >>> 0;
  for (let n = 0; ; n++) {
    const prefix = `key-${n}-`;
    const start = rawFnv1a(prefix);
    for (let first = 0; first < 0x10000; first++) {
      const state = Math.imul(start ^ first, FNV_PRIME) >>> 0;
      if (state >>> 16 === beforeLast >>> 16) return prefix + String.fromCharCode(first, (state ^ beforeLast) & 0xffff);
    }
  }
}

describe('HashRing', () => {
  it('adding a member moves about 1/(n+1) of the keys, all of them to the new member', () => {
    fc.assert(
      fc.property(namesAndOneMore, ({ names, extra }) => {
        const before = owners(new HashRing(members(names)));
        const after = owners(new HashRing(members([...names, extra])));
        const movedTo = after.filter((owner, i) => owner !== before[i]);
        expect(movedTo.filter((owner) => owner !== extra)).toEqual([]);
        const moved = movedTo.length;
        const fair = keys.length / (names.length + 1);
        expect(moved).toBeGreaterThan(0.3 * fair);
        expect(moved).toBeLessThan(2.5 * fair);
      }),
      { numRuns: 40 },
    );
  });

  it('removing a member moves only its keys', () => {
    fc.assert(
      fc.property(namesAndOneMore, ({ names, extra }) => {
        const before = owners(new HashRing(members([...names, extra])));
        const after = owners(new HashRing(members(names)));
        const kept = before.map((owner, i) => (owner === extra ? after[i] : owner));
        expect(after).toEqual(kept);
      }),
      { numRuns: 40 },
    );
  });

  it('a member that find() does not accept gives its keys to the same members as a ring without it', () => {
    fc.assert(
      fc.property(namesAndOneMore, ({ names, extra }) => {
        const skipping = owners(new HashRing(members([...names, extra])), (m) => m.name !== extra);
        expect(skipping).toEqual(owners(new HashRing(members(names))));
      }),
      { numRuns: 40 },
    );
  });

  it.each([2, 5, 10, 50])('spreads keys about evenly over %i members', (n) => {
    const ring = new HashRing(members(Array.from({ length: n }, (_, i) => `client-${i}`)));
    const many = Array.from({ length: 20_000 }, (_, i) => `key-${i}`);
    const counts = new Map<string, number>();
    for (const key of many) {
      const name = ring.find(key, any)!.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.size).toBe(n);
    const fair = many.length / n;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(0.6 * fair);
      expect(count).toBeLessThan(1.5 * fair);
    }
  });

  it('finds nothing in an empty ring, or when no member is accepted', () => {
    expect(new HashRing<Member>([]).find('k', any)).toBeUndefined();
    expect(new HashRing(members(['a', 'b'])).find('k', () => false)).toBeUndefined();
  });

  it('walks the ring once at most: a key no member accepts asks about each point exactly once', () => {
    const asked = new Map<string, number>();
    const ring = new HashRing(members(['a', 'b', 'c']), 10);
    const refuseAll = (m: Member): boolean => {
      asked.set(m.name, (asked.get(m.name) ?? 0) + 1);
      return false;
    };
    expect(ring.find('k', refuseAll)).toBeUndefined();
    expect(Object.fromEntries(asked)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it.each([0, 1.5, Number.NaN])('refuses %s replicas, naming the option', (replicas) => {
    expect(() => new HashRing(members(['a']), replicas)).toThrow(InvalidOptionError);
    expect(() => new HashRing(members(['a']), replicas)).toThrow(expect.objectContaining({ option: 'replicas', value: replicas }));
  });

  it('hashes with 32-bit FNV-1a followed by murmur3 fmix32', () => {
    // The published FNV-1a test vectors anchor the reference.
    expect([rawFnv1a(''), rawFnv1a('a'), rawFnv1a('foobar')]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
    for (const text of ['', 'a', 'foobar', 'client-0', 'user-1234', 'é€😀', 'a much longer key with spaces, digits 0123456789']) {
      expect(fnv1a(text)).toBe(fmix32(rawFnv1a(text)));
    }
  });

  it('places keys the same in every release, so processes of two versions agree during a rolling upgrade', () => {
    // Changing the hash or the points moves almost every key: a deliberate change updates this table.
    const ring = new HashRing(members(Array.from({ length: 8 }, (_, i) => `client-${i}`)));
    const placed = Array.from({ length: 16 }, (_, i) => ring.find(`user-${i}`, any)!.name.slice('client-'.length)).join('');
    expect(placed).toBe('1054247161555574');
  });

  it('a key whose hash falls exactly on a point goes to that point\'s member', () => {
    // A member's first point is its name's hash mixed once more, so this key's hash is exactly on it.
    const keyOn = (name: string): string => keyWithRawHash(fnv1a(name));
    const ring = new HashRing(members(['a', 'b']), 1);
    for (const name of ['a', 'b']) {
      const key = keyOn(name);
      expect(fnv1a(key)).toBe(fmix32(fnv1a(name)));
      expect(ring.find(key, any)?.name).toBe(name);
    }
  });

  it('members whose names hash alike: the first by name owns the shared point, whatever the order given', () => {
    // Two names with one 32-bit FNV-1a hash share their first point; with one point each, it takes every key.
    const [low, high] = ['client-332789', 'client-529192'];
    expect(fnv1a(low)).toBe(fnv1a(high));
    for (const order of [
      [low, high],
      [high, low],
    ]) {
      const ring = new HashRing(members(order), 1);
      expect(keys.slice(0, 50).map((key) => ring.find(key, any)?.name)).toEqual(Array.from({ length: 50 }, () => low));
    }
  });
});
