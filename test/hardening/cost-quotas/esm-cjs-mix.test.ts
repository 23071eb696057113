// Attack: the CommonJS build and the ESM source mixed in one process: a bucket of one as a named limit
// of the other's pool, costs and settles across them.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { ManualClock } from '../../helpers/manual-clock.js';


interface Key {
  readonly id: string;
}

const copy = useCjsCopy();

describe('a CommonJS TokenBucket as a named limit of an ESM pool', () => {
  it('is routed around as an in-memory bucket, counted by cost, and settled', async () => {
    const clock = new ManualClock();
    const tokens = new copy.current.TokenBucket({ rate: 1_000, per: 60_000, clock });
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens } });
    pool.add({ id: 'b' }, { name: 'b' });
    await pool.run((_k, call) => call.settle({ tokens: 200 }), { cost: { tokens: 1_000 } });
    // Whichever key took it, a (CJS bucket) holds 1000 or 800 now, and shows in members().quota.
    const quota = pool.members().find((m) => m.name === 'a')!.quota;
    expect(quota).toBeDefined();
    expect([1_000, 800]).toContain(quota!['tokens']);
    // A cost above its burst is routed to b, never refused, never waited on.
    await expect(pool.run((k) => k.id, { cost: { tokens: 5_000 } })).resolves.toBe('b');
  });

  it('an ESM TokenBucket as a named limit of a CommonJS pool is routed around too', async () => {
    const clock = new ManualClock();
    const tokens = new TokenBucket({ rate: 1_000, per: 60_000, clock });
    const pool = new copy.current.ClientPool<Key>({ clock, maxWait: 0, strategy: 'most-headroom' });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens } });
    pool.add({ id: 'b' }, { name: 'b', limit: { tokens: { rate: 1_000, per: 60_000 } } });
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push(await pool.run((k) => k.id, { cost: { tokens: 500 } }));
    expect(names.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(tokens.available).toBe(0);
  });

  it('a CJS pool refuses a bad cost with an error the ESM error guards recognise', async () => {
    const { isClientPoolError } = await import('../../../src/index.js');
    const pool = new copy.current.ClientPool<Key>();
    pool.add({ id: 'k' });
    const error = await pool.run(() => 'x', { cost: { tokens: -1 } }).catch((e: unknown) => e);
    expect(isClientPoolError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' });
  });
});
