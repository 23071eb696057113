// Attack: the CommonJS build and the ESM source mixed in one process, with priorities and the reserve.
import { describe, expect, it } from 'vitest';
import { ClientPool, ShedError } from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { ManualClock } from '../../helpers/manual-clock.js';


interface Key {
  readonly id: string;
}

const copy = useCjsCopy();

describe('a CommonJS bucket in an ESM pool keeps the reserve from low calls', () => {
  it('as the pool-wide limit', async () => {
    const clock = new ManualClock();
    const bucket = new copy.current.TokenBucket({ rate: 10, burst: 10, clock });
    const pool = new ClientPool<Key>({ clock, limit: bucket, reserve: 0.5, maxWait: 0 });
    pool.add({ id: 'a' });
    for (let i = 0; i < 5; i++) await pool.run(() => 'low', { priority: 'low' });
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'token' });
    expect(bucket.available).toBe(5);
  });

  it('as a client\'s named limit', async () => {
    const clock = new ManualClock();
    const tokens = new copy.current.TokenBucket({ rate: 1_000, per: 60_000, clock });
    const pool = new ClientPool<Key>({ clock, reserve: 0.3, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens } });
    await pool.run(() => 'low', { priority: 'low', cost: { tokens: 600 } });
    await expect(pool.run(() => 'low', { priority: 'low', cost: { tokens: 200 } })).rejects.toMatchObject({ code: 'ERR_SHED' });
    expect(tokens.available).toBe(400);
  });

  it('the CommonJS hasErrorCode and isClientPoolError know an ESM ShedError', async () => {
    const pool = new ClientPool<Key>({ maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    let release!: () => void;
    const held = pool.run(() => new Promise<void>((resolve) => (release = resolve)));
    const error = await pool.run(() => 'low', { priority: 'low' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShedError);
    expect(copy.current.hasErrorCode(error, 'ERR_SHED')).toBe(true);
    expect(copy.current.isClientPoolError(error)).toBe(true);
    release();
    await held;
  });

  it('a CommonJS pool refuses a bad priority and reserve by name, as the ESM one', async () => {
    expect(() => new copy.current.ClientPool<Key>({ reserve: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'reserve' }));
    const pool = new copy.current.ClientPool<Key>();
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'x', { priority: 'HIGH' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'priority' });
  });
});
