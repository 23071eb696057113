import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, PoolClosedError, type Limiter } from '../../src/index.js';

/** A pool-wide limiter that never grants a token, and keeps the signal of every wait it was given. */
function holdingLimiter(): Limiter & { readonly signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    take: (_n, options) => {
      signals.push(options!.signal!);
      return new Promise((_resolve, reject) => options!.signal!.addEventListener('abort', () => reject(new AbortedError(options!.signal!.reason)), { once: true }));
    },
  };
}

describe('the signal each wait is given', () => {
  it('is the wait\'s own, with a listener or two, however many calls wait (adding one to a shared signal is O(n) in Node)', async () => {
    const limit = holdingLimiter();
    const pool = new ClientPool<object>({ limit, maxWait: 60_000 });
    pool.add({}, { name: 'a' });
    const caller = new AbortController();
    const calls = Array.from({ length: 2_000 }, (_, i) => pool.run(() => Promise.resolve(i), i % 2 === 0 ? { signal: caller.signal } : undefined).catch((e: unknown) => e));
    await new Promise((resolve) => setImmediate(resolve));
    expect(new Set(limit.signals).size).toBe(2_000);
    expect(Math.max(...limit.signals.map((signal) => getEventListeners(signal, 'abort').length))).toBeLessThanOrEqual(2);
    expect(getEventListeners(caller.signal, 'abort').length).toBe(1);
    caller.abort('gave up');
    const closed = pool.close();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r instanceof AbortedError)).toHaveLength(1_000);
    expect(results.filter((r) => r instanceof PoolClosedError)).toHaveLength(1_000);
    await closed;
  });

  it('aborts with the pool\'s reason when the pool closes, even if the caller aborted later', async () => {
    const limit = holdingLimiter();
    const pool = new ClientPool<object>({ limit, maxWait: 60_000 });
    pool.add({}, { name: 'a' });
    const caller = new AbortController();
    const call = pool.run(() => Promise.resolve(1), { signal: caller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    const closed = pool.close();
    caller.abort('late');
    expect(await call).toBeInstanceOf(PoolClosedError);
    await closed;
  });
});
