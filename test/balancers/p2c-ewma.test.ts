import { describe, expect, it } from 'vitest';
import { p2cEwma } from '../../src/balancers/p2c-ewma.js';
import type { PoolMember } from '../../src/member.js';
import { seededRandom, type Random } from '../../src/random.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** A member with a fixed latency (undefined: not measured yet) and calls in flight. */
function member(name: string, latencyMs: number | undefined, inFlight = 0): PoolMember {
  return { name, slot: 0, inFlight, isMeasured: latencyMs !== undefined, latencyAt: () => latencyMs ?? 0 } as unknown as PoolMember;
}

/** A source that draws `values` in turn. */
function draws(...values: number[]): Random {
  let i = 0;
  return () => values[i++ % values.length]!;
}

const clock = new ManualClock();
const pickOf = (random: Random, ready: PoolMember[]): string => p2cEwma({ random, clock }).pick(ready).name;

describe('p2cEwma', () => {
  it('a single ready member is picked without a draw', () => {
    expect(pickOf(() => expect.unreachable(), [member('a', 5)])).toBe('a');
  });

  it('of two members that cost the same, takes the first drawn', () => {
    const ready = [member('a', 5), member('b', 5), member('c', 5)];
    // First draw: index 0 (a); second: 0.5 x 2 = 1, past a: index 2 (c).
    expect(pickOf(draws(0, 0.5), ready)).toBe('a');
    expect(pickOf(draws(0.9, 0), ready)).toBe('c');
  });

  it('draws two distinct members uniformly: over many picks every member is first drawn, and the cheapest wins whenever drawn', () => {
    const ready = [member('slow-1', 50), member('slow-2', 50), member('fast', 1)];
    const balancer = p2cEwma({ random: seededRandom(4), clock });
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const name = balancer.pick(ready).name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    // The fast member is in 2 of the 3 possible pairs; each slow one wins only against the other.
    expect(counts.get('fast')! / 3_000).toBeCloseTo(2 / 3, 1);
    expect(counts.get('slow-1')! / 3_000).toBeCloseTo(1 / 6, 1);
    expect(counts.get('slow-2')! / 3_000).toBeCloseTo(1 / 6, 1);
  });

  it('costs latency x (in-flight + 1): calls in flight make a fast member dear', () => {
    // idle: (0 + 1) x (3 + 1) = 4 against (2 + 1) x (0 + 1) = 3.
    expect(pickOf(draws(0, 0), [member('busy', 0, 3), member('idle', 2, 0)])).toBe('idle');
    expect(pickOf(draws(0, 0), [member('busy', 5, 0), member('idle', 5, 4)])).toBe('busy');
  });

  it('an unmeasured member is free while idle and dearer than any measured one while busy, more so the busier', () => {
    expect(pickOf(draws(0, 0), [member('measured', 1), member('new', undefined, 0)])).toBe('new');
    expect(pickOf(draws(0, 0), [member('new', undefined, 1), member('measured', 60_000, 50)])).toBe('measured');
    expect(pickOf(draws(0, 0), [member('new-3', undefined, 3), member('new-1', undefined, 1)])).toBe('new-1');
  });
});
