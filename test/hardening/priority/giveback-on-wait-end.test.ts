// Attack: pool-wide tokens of an attempt that waited for a client and never got one come back, once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** One client with a cap of 1 behind a pool-wide bucket that does not refill during the test. */
function setup(): { pool: ClientPool<Backend>; bucket: TokenBucket } {
  const bucket = new TokenBucket({ rate: 1, per: 3_600_000, burst: 10, clock: dateClock });
  const pool = new ClientPool<Backend>({ clock: dateClock, limit: bucket, maxWait: 10_000 });
  pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
  return { pool, bucket };
}

describe('pool-wide tokens of a call that waited for a client in vain', () => {
  it('past its deadline: given back', async () => {
    const { pool, bucket } = setup();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const calls = [pool.run(() => 'x', { deadline: 50, priority: 'high' }), pool.run(() => 'y', { deadline: 50 })].map((p) => p.catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(60);
    expect((await Promise.all(calls)).map((e) => (e as { code?: string }).code)).toEqual(['ERR_DEADLINE_EXCEEDED', 'ERR_DEADLINE_EXCEEDED']);
    expect(Math.floor(bucket.available)).toBe(9);
    gate.resolve();
    await held;
  });

  it('past its maxWait: given back', async () => {
    const { pool, bucket } = setup();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const call = pool.run(() => 'x', { maxWait: 50, priority: 'high' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60);
    expect(await call).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    expect(Math.floor(bucket.available)).toBe(9);
    gate.resolve();
    await held;
  });

  it('a hedge waiting for a client when the first attempt wins: given back', async () => {
    const bucket = new TokenBucket({ rate: 1, per: 3_600_000, burst: 10, clock: dateClock });
    const pool = new ClientPool<Backend>({ clock: dateClock, limit: bucket, maxWait: 10_000, hedge: { delay: 10 } });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    const call = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('first'), 50)), { priority: 'high' });
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('first');
    // The first attempt's token spent; the hedge's, which never reached a client, back.
    expect(Math.floor(bucket.available)).toBe(9);
  });

  it('close() while it waits: given back', async () => {
    const { pool, bucket } = setup();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const call = pool.run(() => 'x').catch((e: unknown) => e);
    const closing = pool.close();
    expect(await call).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(Math.floor(bucket.available)).toBe(9);
    gate.resolve();
    await held;
    await closing;
  });
});
