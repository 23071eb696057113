import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, PoolClosedError, TimeoutError } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A pool whose one client has spent its only token: the next call waits for one. */
async function waitingPool(): Promise<ClientPool<object>> {
  const pool = new ClientPool<object>({ maxWait: 10_000 });
  pool.add({}, { name: 'a', limit: { rate: 0.5, burst: 1 } });
  await pool.run(() => Promise.resolve(0));
  return pool;
}

describe('a caller abort during a wait', () => {
  // A nested pool: the outer attempt's signal aborts with the outer pool's own errors.
  it.each([
    ['a string', 'gave up'],
    ['a TimeoutError of another pool', new TimeoutError(20, 'outer-client')],
    ['a PoolClosedError of another pool', new PoolClosedError()],
  ])('with %s as its reason is an AbortedError, the reason as its cause', async (_name, reason) => {
    vi.useFakeTimers();
    const pool = await waitingPool();
    const controller = new AbortController();
    const waiting = pool.run(() => Promise.resolve(1), { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5);
    controller.abort(reason);
    const error = await waiting;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe(reason);
    pool.add({}, { name: 'spare' }); // the pool is still open: a new client takes calls
    await expect(pool.run(() => Promise.resolve('open still'))).resolves.toBe('open still');
    await pool.destroy();
  });

  it('while a retry waits for its token, is the caller\'s abort, not the previous attempt\'s failure', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<object>({ maxWait: 10_000 });
    pool.add({}, { name: 'a', limit: { rate: 0.5, burst: 1 } });
    const controller = new AbortController();
    const call = pool
      .run(() => Promise.reject(new Error('first attempt failed')), { signal: controller.signal, retry: { attempts: 2, backoff: { initial: 1, max: 1 } } })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30);
    controller.abort(new TimeoutError(20));
    const error = await call;
    expect(error).toBeInstanceOf(AbortedError);
    await pool.destroy();
  });
});

describe('the pool closing during a wait', () => {
  it('is a PoolClosedError, as itself', async () => {
    vi.useFakeTimers();
    const pool = await waitingPool();
    const waiting = pool.run(() => Promise.resolve(1)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5);
    const closed = pool.close();
    expect(await waiting).toBeInstanceOf(PoolClosedError);
    await closed;
  });
});

describe('an abort raised by a middleware before the client (a nested pool fetching a token)', () => {
  it('is a refusal, not a cancellation: the caller did not leave', async () => {
    const inner = new ClientPool<object>();
    inner.add({});
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    pool.use({
      name: 'auth',
      execute: async (call, next) => {
        const controller = new AbortController();
        const token = inner.run(() => new Promise(() => {}), { signal: controller.signal });
        controller.abort('token fetch gave up');
        await token;
        return next(call);
      },
    });
    const kinds: string[] = [];
    pool.use({ name: 'watch', onOutcome: (_call, outcome) => kinds.push(outcome.kind) });
    await expect(pool.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(AbortedError);
    expect(kinds).toEqual(['refused']);
    expect(pool.members()[0]).toMatchObject({ cancelled: 0, refused: 1, inFlight: 0 });
    await pool.close();
    await inner.close();
  });
});
