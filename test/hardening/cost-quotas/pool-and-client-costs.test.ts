// Attack: pool-wide limits by name mixed with the clients' own, costs larger than some or all bursts,
// fractional and zero costs.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

describe('pool-wide cost limits and clients that cannot take the call', () => {
  it('a call refused because no client had room gives its pool-wide cost back', async () => {
    const clock = new ManualClock();
    const poolTokens = new TokenBucket({ rate: 100_000, per: MINUTE, clock });
    const pool = new ClientPool<Key>({ clock, maxWait: 0, limit: { tokens: poolTokens } });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 1_000, per: MINUTE } } });
    await pool.run(() => 'a', { cost: { tokens: 1_000 } });
    await expect(pool.run(() => 'b', { cost: { tokens: 1_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    // Only the call that reached the key spent the organisation's quota.
    expect(poolTokens.available).toBe(99_000);
  });

  it('a cost no client can hold is refused without spending the pool-wide quota', async () => {
    const clock = new ManualClock();
    const poolTokens = new TokenBucket({ rate: 100_000, per: MINUTE, clock });
    const pool = new ClientPool<Key>({ clock, maxWait: 0, limit: { tokens: poolTokens } });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 1_000, per: MINUTE } } });
    await expect(pool.run(() => 'x', { cost: { tokens: 5_000 } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' });
    expect(poolTokens.available).toBe(100_000);
  });

  it('a cost above the pool-wide burst is refused by name, and the pool\'s other limits keep their tokens', async () => {
    const clock = new ManualClock();
    const requests = new TokenBucket({ rate: 10, clock });
    const pool = new ClientPool<Key>({ clock, maxWait: 0, limit: { requests, tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'k' });
    const error = await pool.run(() => 'x', { cost: { tokens: 5_000 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' });
    expect(requests.available).toBe(10);
  });

  it('a cost above the pool-wide burst fails fast even with a long maxWait', async () => {
    const pool = new ClientPool<Key>({ maxWait: 60_000, limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'k' });
    const outcome = await Promise.race([
      pool.run(() => 'x', { cost: { tokens: 5_000 } }).catch((e: unknown) => e),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 500)),
    ]);
    expect(outcome).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await pool.close();
  });
});

describe('zero and fractional costs', () => {
  // Documented limit (docs/cost-quotas.md): a client out of request tokens leaves the rotation for every
  // call, those that take none included, until one is back.
  it('a call of { requests: 0 } waits out a client whose request bucket ran dry, as every call does', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'k' }, { limit: { requests: { rate: 1, burst: 1 }, tokens: { rate: 1_000, per: MINUTE } } });
    await pool.run(() => 'a');
    // The next plain call finds the request bucket empty (the key is passed over for a while).
    await expect(pool.run(() => 'b')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    await expect(pool.run(() => 'c', { cost: { requests: 0, tokens: 10 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(1_000);
    await expect(pool.run(() => 'c', { cost: { requests: 0, tokens: 10 } })).resolves.toBe('c');
  });

  it('ten costs of 0.1 fill a bucket of 1 exactly: ten pass, the eleventh waits', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'k' }, { limit: { usd: { rate: 1, per: 86_400_000, burst: 1 } } });
    for (let i = 0; i < 10; i++) await expect(pool.run(() => i, { cost: { usd: 0.1 } })).resolves.toBe(i);
    await expect(pool.run(() => 'over', { cost: { usd: 0.1 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });

  it('a cost of 2^53-1 against a bucket that large passes once and is counted', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    const huge = Number.MAX_SAFE_INTEGER;
    pool.add({ id: 'k' }, { limit: { tokens: { rate: huge, per: MINUTE } } });
    await expect(pool.run(() => 'a', { cost: { tokens: huge } })).resolves.toBe('a');
    await expect(pool.run(() => 'b', { cost: { tokens: huge } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });
});

describe('most-headroom with costs that fit only some keys', () => {
  it('a cost above the emptier key\'s burst goes to the key it fits even when that key has less headroom', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, strategy: 'most-headroom', maxWait: 0 });
    pool.add({ id: 'small' }, { name: 'small', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'large' }, { name: 'large', limit: { tokens: { rate: 40_000, per: MINUTE } } });
    await pool.run(() => 'x', { cost: { tokens: 30_000 } });
    await expect(pool.run((k) => k.id, { cost: { tokens: 5_000 } })).resolves.toBe('large');
    expect(pool.members().find((m) => m.name === 'small')!.quota).toEqual({ tokens: 1_000 });
  });
});
