// Attack: quorum reads with costs: the option the type accepts, each attempt's cost, clients it fits.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

function keys(n: number, rate = 10_000): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock: new ManualClock(), maxWait: 0 });
  for (let i = 0; i < n; i++) pool.add({ id: `k${i}` }, { name: `k${i}`, limit: { tokens: { rate, per: MINUTE } } });
  return pool;
}

describe('quorum with costs', () => {
  it('takes a cost option (QuorumOptions extends RunOptions, which has cost) and charges it on each client asked', async () => {
    const pool = keys(3);
    await expect(pool.quorum(() => 42, { of: 3, cost: { tokens: 1_000 } })).resolves.toBe(42);
    expect(pool.members().map((m) => m.quota)).toEqual([{ tokens: 9_000 }, { tokens: 9_000 }, { tokens: 9_000 }]);
  });

  it('a method\'s cost applies to each attempt of a quorum of that method', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock(), methods: { read: { cost: { tokens: 500 } } } });
    for (let i = 0; i < 2; i++) pool.add({ id: `k${i}` }, { name: `k${i}`, limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.quorum(() => 1, { of: 2, method: 'read' });
    expect(pool.members().map((m) => m.quota)).toEqual([{ tokens: 9_500 }, { tokens: 9_500 }]);
  });

  it('each attempt of a quorum can settle its own key', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock(), methods: { read: { cost: { tokens: 500 } } } });
    for (let i = 0; i < 2; i++) pool.add({ id: `k${i}` }, { name: `k${i}`, limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.quorum((_k, call) => {
      call.settle({ tokens: 100 });
      return 1;
    }, { of: 2, method: 'read' });
    expect(pool.members().map((m) => m.quota)).toEqual([{ tokens: 9_900 }, { tokens: 9_900 }]);
  });

  it('a quorum of 3 whose cost fits only 2 keys fails with a QuorumError or a typed pool error, and leaks nothing', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock(), maxWait: 0, methods: { read: { cost: { tokens: 5_000 } } } });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add({ id: 'b' }, { name: 'b', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add({ id: 'c' }, { name: 'c', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    const error = await pool.quorum(() => 1, { of: 3, agree: 3, method: 'read' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toMatch(/^ERR_/);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });
});
