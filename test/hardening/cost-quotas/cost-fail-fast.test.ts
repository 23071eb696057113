// Attack: a call whose cost cannot be met in time, or whose only fitting client goes away, must not wait
// out its maxWait.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;
const within = <V>(promise: Promise<V>, ms: number): Promise<V | 'hung'> => Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);

describe('costs that cannot be met in time', () => {
  it('a cost that needs 27 s of refill fails at once with RateLimitedError when maxWait is 5 s', async () => {
    const pool = new ClientPool<Key>({ maxWait: 5_000 });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run(() => 'a', { cost: { tokens: 9_500 } });
    const outcome = await within(pool.run(() => 'b', { cost: { tokens: 5_000 } }).catch((e: unknown) => e), 1_000);
    expect(outcome).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    await pool.close();
  });

  it('a call waiting for the only client its cost fits ends when that client is removed', async () => {
    const pool = new ClientPool<Key>({ maxWait: 30_000 });
    const large = { id: 'large' };
    pool.add({ id: 'small' }, { name: 'small', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add(large, { name: 'large', maxInFlight: 1, limit: { tokens: { rate: 40_000, per: MINUTE } } });
    let release!: () => void;
    const busy = pool.run(() => new Promise<void>((resolve) => (release = resolve)), { cost: { tokens: 5_000 } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const waiting = pool.run((k) => k.id, { cost: { tokens: 5_000 } }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const removing = pool.remove(large);
    const outcome = await within(waiting, 2_000);
    release();
    await busy;
    await removing;
    expect(outcome).not.toBe('hung');
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^ERR_/) });
    await pool.close();
  });
});
