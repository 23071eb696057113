import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunOptions } from '../../../src/index.js';
import { makePool, never, settled, type Client } from './two-clients.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});


// The deadline queue now leaves an immediate behind when it empties (to let its timer go once the loop
// turned), and the signal watches one to sweep: close() and destroy() must leave neither, nor a timer.
describe('no timer or immediate of the pool is left once it closed', () => {
  it('closed right after timed and signalled calls settled, before the loop turned', async () => {
    const pool = makePool();
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) await pool.run(() => Promise.resolve(i), { timeout: 1_000, signal: controller.signal });
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('closed while a timed call is in flight: close waits for it, then nothing is left', async () => {
    const pool = makePool();
    let release!: (value: string) => void;
    const call = pool.run(() => new Promise<string>((resolve) => (release = resolve)), { timeout: 10_000 });
    await vi.advanceTimersByTimeAsync(1);
    const closing = pool.close();
    await vi.advanceTimersByTimeAsync(5);
    release('ok');
    await expect(call).resolves.toBe('ok');
    await closing;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closed during a retry backoff, and during a hedge delay', async () => {
    const pool = makePool();
    let tries = 0;
    const retried = settled(pool.run(() => (++tries === 1 ? Promise.reject(new Error('down')) : Promise.resolve('late')), { retry: { attempts: 2, backoff: { initial: 5_000, max: 5_000, jitter: 'none' } } }));
    let release!: (value: string) => void;
    const hedged = settled(pool.run(() => new Promise<string>((resolve) => (release = resolve)), { hedge: { delay: 3_000 }, timeout: 60_000 }));
    await vi.advanceTimersByTimeAsync(10);
    const closing = pool.close();
    await vi.advanceTimersByTimeAsync(10);
    release('first');
    expect(await retried).toMatchObject({ cause: { message: 'down' } });
    expect(await hedged).toEqual({ value: 'first' });
    await closing;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('destroyed with timed, signalled, hedged and deadlined calls in flight', async () => {
    const pool = makePool();
    const controller = new AbortController();
    const options: RunOptions<Client>[] = [{ timeout: 60_000 }, { signal: controller.signal }, { hedge: { delay: 50 }, timeout: 60_000 }, { deadline: 30_000 }, { signal: AbortSignal.timeout(600_000) }];
    const calls = options.map((o) => settled(pool.run(never, o)));
    await vi.advanceTimersByTimeAsync(100);
    await pool.destroy();
    const errors = await Promise.all(calls);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(Array(5).fill('ERR_POOL_CLOSED'));
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('destroyed from inside a timed call\'s own function, synchronously', async () => {
    const pool = makePool();
    let destroyed: Promise<void> | undefined;
    const call = settled(
      pool.run(() => {
        destroyed = pool.destroy();
        return never();
      }, { timeout: 60_000, signal: new AbortController().signal }),
    );
    expect(await call).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await destroyed;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closed from the caller signal\'s abort listener while its calls end', async () => {
    const pool = makePool();
    const controller = new AbortController();
    let closing: Promise<void> | undefined;
    controller.signal.addEventListener(
      'abort',
      () => {
        closing = pool.close();
      },
      { once: true },
    );
    const calls = [settled(pool.run(never, { signal: controller.signal, timeout: 60_000 })), settled(pool.run(never, { signal: controller.signal }))];
    await vi.advanceTimersByTimeAsync(1);
    controller.abort('stop');
    expect(await Promise.all(calls)).toMatchObject([{ code: 'ERR_ABORTED' }, { code: 'ERR_ABORTED' }]);
    await closing;
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a timed, signalled call run after close is refused and leaves nothing behind', async () => {
    const pool = makePool();
    await pool.close();
    const controller = new AbortController();
    await expect(pool.run(() => Promise.resolve(1), { signal: controller.signal, timeout: 5_000, hedge: { delay: 10 } })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
