import { describe, expect, it } from 'vitest';
import { useCjsCopy } from '../../helpers/cjs-copy.js';

// dist/cjs is older than the change under attack (no new-member.js): the CommonJS copy is bundled from src.
const cjs = useCjsCopy();

type Client = { name: string };

describe('plain calls in the CommonJS build', () => {
  it('ask a counting balancer once per call, in round-robin order, with clients that have limits', async () => {
    const { ClientPool } = cjs.current;
    let next = 0;
    const picked: string[] = [];
    const pool = new ClientPool<Client>({
      strategy: {
        pick: (ready) => {
          const member = ready[next++ % ready.length]!;
          picked.push(member.name);
          return member;
        },
      },
    });
    pool.add({ name: 'a' }, { name: 'a', limit: { rate: 1_000, burst: 1_000 } });
    pool.add({ name: 'b' }, { name: 'b' });
    const served: string[] = [];
    for (let i = 0; i < 6; i++) await pool.run((c) => served.push(c.name));
    expect(picked).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(served).toEqual(picked);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('reject, never throw, for a closed pool and a non-function, and grow the retry budget once a call can retry', async () => {
    const { ClientPool } = cjs.current;
    const pool = new ClientPool<Client>({ methods: { write: { retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } } } });
    pool.add({ name: 'a' }, { name: 'a' });
    let failed = false;
    await pool.run(() => (failed ? Promise.resolve(1) : ((failed = true), Promise.reject(new Error('down')))), { method: 'write' });
    const before = pool.retryBudget!.balance;
    for (let i = 0; i < 3; i++) await pool.run(() => i);
    expect(pool.retryBudget!.balance).toBeCloseTo(before + 0.3, 6);
    await expect(pool.run(7 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await pool.close();
    await expect(pool.run(() => 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });
});
