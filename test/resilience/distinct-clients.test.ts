import { describe, expect, it } from 'vitest';
import type { Member } from '../../src/member.js';
import { DistinctClients } from '../../src/resilience/distinct-clients.js';

const member = (name: string): Member<unknown> => ({ name }) as unknown as Member<unknown>;

describe('DistinctClients: the strict avoid list of a quorum', () => {
  it('holds what was pushed, in order, and answers includes() for exactly those', () => {
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const taken = new DistinctClients<unknown>();
    expect(taken.push(a, b)).toBe(2);
    expect([...taken]).toEqual([a, b]);
    expect(taken.includes(a)).toBe(true);
    expect(taken.includes(b)).toBe(true);
    expect(taken.includes(c)).toBe(false);
    expect(taken.isStrict).toBe(true);
  });

  it('makes plain arrays from map and filter', () => {
    const taken = new DistinctClients<unknown>();
    taken.push(member('a'));
    const names = taken.map((m) => m.name);
    expect(names).toEqual(['a']);
    expect(names).not.toBeInstanceOf(DistinctClients);
  });
});
