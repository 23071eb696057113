// Attack: settle() on a RedisTokenBucket named limit, against a real redis-server: refunds reach the
// fleet, a second settle corrects the first, a settle after close() is harmless.
import { expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { RedisTokenBucket } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';

interface Key {
  readonly id: string;
}

let keys = 0;
const freshKey = (): string => `cost-quotas:${process.pid}:${++keys}`;
/** A minute per 1 000 tokens: nothing refills on its own while a test runs. */
const SLOW = { rate: 1_000, per: 3_600_000, burst: 1_000, maxWait: 30_000, timeout: 10_000 } as const;

describeWithRedis('settle() on a Redis bucket by name', () => {
  const fixture = useRedisServer();

  it('a refund from settle() reaches the fleet: another process\'s bucket on the key can take it', async () => {
    const redis = await fixture.connect();
    const key = freshKey();
    const shared = new RedisTokenBucket({ redis, key, ...SLOW });
    const other = new RedisTokenBucket({ redis, key, ...SLOW });
    const pool = new ClientPool<Key>({ maxWait: 30_000 });
    pool.add({ id: 'k' }, { limit: { tokens: shared } });
    await pool.run((_k, call) => call.settle({ tokens: 100 }), { cost: { tokens: 1_000 } });
    // The refund of 900 is sent at once, one round trip (two the first time: the script is loaded).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(other.take(900, { maxWait: 5_000 })).resolves.toBeUndefined();
    await expect(other.take(50, { maxWait: 0 })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    shared.close();
    other.close();
    await pool.close();
  });

  it('settling twice (500, then 800) leaves 200 for the fleet, not 500 + 200', async () => {
    const redis = await fixture.connect();
    const key = freshKey();
    const shared = new RedisTokenBucket({ redis, key, ...SLOW });
    const other = new RedisTokenBucket({ redis, key, ...SLOW });
    const pool = new ClientPool<Key>({ maxWait: 30_000 });
    pool.add({ id: 'k' }, { limit: { tokens: shared } });
    await pool.run((_k, call) => {
      call.settle({ tokens: 500 });
      call.settle({ tokens: 800 });
    }, { cost: { tokens: 1_000 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(other.take(200, { maxWait: 5_000 })).resolves.toBeUndefined();
    await expect(other.take(50, { maxWait: 0 })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    shared.close();
    other.close();
    await pool.close();
  });

  it('settle() after the pool closed its limits does not throw', async () => {
    const redis = await fixture.connect();
    const shared = new RedisTokenBucket({ redis, key: freshKey(), ...SLOW });
    const pool = new ClientPool<Key>({ maxWait: 30_000 });
    pool.add({ id: 'k' }, { limit: { tokens: shared } });
    let kept: { settle(c: Record<string, number>): void } | undefined;
    await pool.run((_k, call) => {
      kept = call;
    }, { cost: { tokens: 10 } });
    await pool.close();
    expect(() => kept!.settle({ tokens: 1 })).not.toThrow();
  });
});
