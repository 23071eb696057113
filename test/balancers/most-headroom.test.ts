import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mostHeadroom } from '../../src/balancers/most-headroom.js';
import type { PoolMember } from '../../src/index.js';

interface Fake {
  readonly id: number;
}

function member(slot: number, headroom: number, inFlight = 0): PoolMember<Fake> {
  return { client: { id: slot }, name: `m${slot}`, weight: 1, slot, inFlight, latencyMs: 0, isMeasured: false, latencyAt: () => 0, headroom };
}

describe('most-headroom: the ready member with the largest share of its quota left', () => {
  it('picks the largest headroom wherever it stands in the list', () => {
    const balancer = mostHeadroom<Fake>();
    const ready = [member(0, 0.2), member(1, 0.9), member(2, 0.5)];
    for (let i = 0; i < 6; i++) expect(balancer.pick(ready).slot).toBe(1);
  });

  it('breaks a tie by fewer calls in flight', () => {
    const balancer = mostHeadroom<Fake>();
    const ready = [member(0, 1, 3), member(1, 1, 1), member(2, 1, 2)];
    for (let i = 0; i < 6; i++) expect(balancer.pick(ready).slot).toBe(1);
  });

  it('takes full ties in turn', () => {
    const balancer = mostHeadroom<Fake>();
    const ready = [member(0, 1), member(1, 1), member(2, 1)];
    expect(Array.from({ length: 6 }, () => balancer.pick(ready).slot)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('always returns a ready member with the maximum headroom (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(10)), { minLength: 1, maxLength: 12 }), fc.nat(20), (specs, turns) => {
        const balancer = mostHeadroom<Fake>();
        const ready = specs.map(([headroom, inFlight], slot) => member(slot, headroom, inFlight));
        for (let i = 0; i < turns; i++) balancer.pick(ready);
        const picked = balancer.pick(ready);
        expect(ready).toContain(picked);
        expect(picked.headroom).toBe(Math.max(...ready.map((m) => m.headroom)));
      }),
    );
  });
});
