// Picking a client: what the pick does with clients that cannot take a call now.
import { describe, expect, it } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../src/index.js';

interface Fake {
  readonly id: string;
}

describe('picking a client', () => {
  it('a client bucket with someone queued on it does not make the pool spin', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 5 });
    bucket.tryTake(3);
    const queued = bucket.take(5, { maxWait: 60_000 }).catch(() => undefined);
    const pool = new ClientPool<Fake>({ maxWait: 0 });
    pool.add({ id: 'a' }, { limit: bucket });
    await expect(pool.run((client) => client.id)).rejects.toBeInstanceOf(RateLimitedError);
    bucket.close();
    await queued;
  });
});
