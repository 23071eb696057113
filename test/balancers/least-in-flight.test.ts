import { describe, expect, it } from 'vitest';
import { leastInFlight } from '../../src/balancers/least-in-flight.js';
import type { PoolMember } from '../../src/member.js';

/** A member as the balancer reads it: its slot and in-flight count. */
function member(name: string, slot: number, inFlight = 0): PoolMember & { inFlight: number } {
  return { name, slot, inFlight } as PoolMember & { inFlight: number };
}

describe('leastInFlight', () => {
  it('with no member made ready to it, picks the first ready one', () => {
    const a = member('a', 0);
    expect(leastInFlight().pick([a])).toBe(a);
  });

  it('idle members take turns, first made ready first', () => {
    const balancer = leastInFlight();
    const members = [member('a', 0), member('b', 1), member('c', 2)];
    for (const m of members) balancer.onReady!(m);
    expect([1, 2, 3, 4, 5, 6].map(() => balancer.pick(members).name)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('picks the member with the fewest calls in flight, as counts change', () => {
    const balancer = leastInFlight();
    const [a, b] = [member('a', 0), member('b', 1)];
    balancer.onReady!(a);
    balancer.onReady!(b);
    a.inFlight = 2;
    balancer.onInFlight!(a);
    expect(balancer.pick([a, b])).toBe(b);
    b.inFlight = 3;
    balancer.onInFlight!(b);
    expect(balancer.pick([a, b])).toBe(a);
  });

  it('a member gone unready is not picked; hooks for a member it does not hold change nothing', () => {
    const balancer = leastInFlight();
    const [a, b, c] = [member('a', 0), member('b', 1), member('c', 2)];
    expect(() => {
      balancer.onInFlight!(a);
      balancer.onUnready!(a);
    }).not.toThrow();
    balancer.onReady!(a);
    balancer.onReady!(b);
    balancer.onUnready!(a);
    balancer.onUnready!(a);
    c.inFlight = 1;
    balancer.onInFlight!(c);
    expect([1, 2, 3].map(() => balancer.pick([b]).name)).toEqual(['b', 'b', 'b']);
  });
});
