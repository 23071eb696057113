import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket, type Limiter } from '../../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A shared limit (a Redis bucket, say) that refuses every token, at once or after a wait, and counts what it is given back. */
function refusingLimiter(): Limiter & { adjusted: number[]; takes: number } {
  const limiter = {
    adjusted: [] as number[],
    takes: 0,
    tryTake: (): boolean => false,
    take(): Promise<void> {
      limiter.takes++;
      return Promise.reject(new RateLimitedError(1_000, 'shared'));
    },
    adjust(n: number): void {
      limiter.adjusted.push(n);
    },
  };
  return limiter;
}

// tryTakeAll now returns before its list of what was taken when the pool has no shared limit: with one,
// the in-memory tokens taken before the shared limit refused must still go back.
describe('a pool limit of an in-memory bucket and a shared one', () => {
  it('a call the shared limit refuses gives its in-memory tokens back: the bucket is as full as before', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ rate: 1, per: 60_000, burst: 3 });
    const shared = refusingLimiter();
    const pool = new ClientPool<{ id: number }>({ limit: { requests: bucket, shared }, maxWait: 0 });
    pool.add({ id: 1 });
    const fn = vi.fn((client: { id: number }) => Promise.resolve(client.id));
    for (let i = 0; i < 5; i++) {
      const error = await pool.run(fn, { cost: { requests: 1, shared: 1 } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    }
    expect(fn).not.toHaveBeenCalled();
    expect(bucket.available).toBe(3);
    await pool.close();
  });

  it('a low-priority call the shared limit refuses is shed and gives its in-memory tokens back', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ rate: 1, per: 60_000, burst: 10 });
    const shared = refusingLimiter();
    const pool = new ClientPool<{ id: number }>({ limit: { requests: bucket, shared }, maxWait: 0 });
    pool.add({ id: 1 });
    for (let i = 0; i < 12; i++) {
      const error = await pool.run(() => Promise.resolve(1), { cost: { requests: 1, shared: 1 }, priority: 'low' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_SHED' });
    }
    expect(bucket.available).toBe(10);
    await pool.close();
  });

  it('a call that costs the shared limit nothing passes on the in-memory bucket alone, and takes from it', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ rate: 1, per: 60_000, burst: 3 });
    const shared = refusingLimiter();
    const pool = new ClientPool<{ id: number }>({ limit: { requests: bucket, shared }, maxWait: 0 });
    pool.add({ id: 1 });
    await expect(pool.run((client) => Promise.resolve(client.id), { cost: { requests: 1 } })).resolves.toBe(1);
    expect(bucket.available).toBe(2);
    expect(shared.takes).toBe(0);
    await pool.close();
  });

  it('with the in-memory bucket alone, a call takes one token and a refusal takes none', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ rate: 1, per: 60_000, burst: 2 });
    const pool = new ClientPool<{ id: number }>({ limit: bucket, maxWait: 0 });
    pool.add({ id: 1 });
    await pool.run(() => Promise.resolve(1));
    await pool.run(() => Promise.resolve(2));
    expect(bucket.available).toBe(0);
    await expect(pool.run(() => Promise.resolve(3))).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    vi.advanceTimersByTime(30_000);
    expect(bucket.available).toBe(0.5);
    vi.advanceTimersByTime(30_000);
    expect(bucket.available).toBe(1);
    await pool.close();
  });
});
