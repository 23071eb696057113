// Attack: calls answered without reaching a client (a cache hit) must not spend the quotas.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

describe('cache hits and costs', () => {
  it('a cache hit takes nothing from the pool-wide or the client limits', async () => {
    const clock = new ManualClock();
    const poolTokens = new TokenBucket({ rate: 10_000, per: 60_000, clock });
    const pool = new ClientPool<Key>({ clock, limit: { tokens: poolTokens } });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 10_000, per: 60_000 } } });
    const options = { cost: { tokens: 1_000 }, coalesce: 'same-key', cache: { ttl: 60_000 } };
    await pool.run(() => 'a', options);
    await expect(pool.run(() => 'b', options)).resolves.toBe('a');
    expect(poolTokens.available).toBe(9_000);
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_000 });
  });
});
