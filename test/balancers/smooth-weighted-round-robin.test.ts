import { describe, expect, it } from 'vitest';
import { smoothWeightedRoundRobin } from '../../src/balancers/smooth-weighted-round-robin.js';
import type { PoolMember } from '../../src/member.js';

const member = (name: string, slot: number, weight = 1): PoolMember => ({ name, slot, weight }) as PoolMember;

describe('smoothWeightedRoundRobin', () => {
  it('with no member made ready to it, picks the first ready one', () => {
    const a = member('a', 0);
    expect(smoothWeightedRoundRobin().pick([a])).toBe(a);
  });

  it('onUnready for a member it does not hold changes nothing', () => {
    const balancer = smoothWeightedRoundRobin();
    const [a, b] = [member('a', 0), member('b', 1, 2)];
    expect(() => balancer.onUnready!(a)).not.toThrow();
    balancer.onReady!(a);
    balancer.onReady!(b);
    expect([1, 2, 3, 4, 5, 6].map(() => balancer.pick([a, b]).name)).toEqual(['b', 'a', 'b', 'b', 'a', 'b']);
  });
});
