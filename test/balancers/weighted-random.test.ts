import { describe, expect, it } from 'vitest';
import { weightedRandom } from '../../src/balancers/weighted-random.js';
import type { PoolMember } from '../../src/member.js';
import { seededRandom } from '../../src/random.js';
import { systemClock } from '../../src/clock.js';

const member = (name: string, slot: number, weight = 1): PoolMember => ({ name, slot, weight }) as PoolMember;

describe('weightedRandom', () => {
  it('with no member made ready to it, picks the first ready one', () => {
    const a = member('a', 0);
    expect(weightedRandom({ random: () => 0.5, clock: systemClock }).pick([a])).toBe(a);
  });

  it('a member gone unready takes no share: the others split it by weight', () => {
    const balancer = weightedRandom({ random: seededRandom(9), clock: systemClock });
    const [a, b, c] = [member('a', 0), member('b', 1), member('c', 2)];
    for (const m of [a, b, c]) balancer.onReady!(m);
    balancer.onUnready!(a);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const name = balancer.pick([b, c]).name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['b', 'c']);
    for (const count of counts.values()) expect(count).toBeGreaterThan(1_300);
  });
});
