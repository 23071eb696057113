import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing } from '../../src/balancers/hash-ring.js';
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

  it.each([0, 1.5, Number.NaN])('refuses %s replicas', (replicas) => {
    expect(() => new HashRing(members(['a']), replicas)).toThrow(InvalidOptionError);
  });
});
