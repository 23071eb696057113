import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket, type Call } from '../../../src/index.js';
import { makePool, never, settled, type Client } from './two-clients.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});


const inFlight = (pool: ClientPool<Client>): number => pool.members().reduce((n, m) => n + m.inFlight, 0);

// The race promise is made with a module-level executor whose resolve and reject are read from module
// variables: a race started while another is being set up (a call made from inside a function, a
// middleware, a signal listener) must keep its own.
describe('a race started while another is being set up keeps its own resolve and reject', () => {
  it('a timed call made synchronously from inside another timed call\'s function: each settles as its own function and timeout say', async () => {
    const pool = makePool();
    let inner: Promise<unknown> | undefined;
    const outer = settled(
      pool.run(() => {
        inner = settled(pool.run(never, { timeout: 50 }));
        return Promise.resolve('outer');
      }, { timeout: 1_000 }),
    );
    let inner2: Promise<unknown> | undefined;
    const outer2 = settled(
      pool.run(() => {
        inner2 = settled(pool.run(() => Promise.resolve('inner2'), { timeout: 1_000 }));
        return never();
      }, { timeout: 50 }),
    );
    await vi.advanceTimersByTimeAsync(60);
    expect(await outer).toEqual({ value: 'outer' });
    expect(await inner).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 50 });
    expect(await outer2).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 50 });
    expect(await inner2).toEqual({ value: 'inner2' });
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a middleware that runs a timed call before calling next: both calls get their own results', async () => {
    const pool = makePool();
    const seen: unknown[] = [];
    let depth = 0;
    pool.use((call: Call<Client>, next) => {
      if (depth === 0 && call.method === 'outer') {
        depth++;
        seen.push(pool.run(() => Promise.resolve('from middleware'), { timeout: 100, method: 'inner' }));
        depth--;
      }
      return next(call);
    });
    const result = await pool.run(() => Promise.resolve('outer value'), { timeout: 100, method: 'outer' });
    expect(result).toBe('outer value');
    expect(await Promise.all(seen)).toEqual(['from middleware']);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a middleware that throws synchronously (an Error, or a string) fails the timed call, gives its client back and leaves no deadline to fire', async () => {
    const pool = makePool();
    const thrown: unknown[] = [new Error('sync boom'), 'string boom'];
    let i = 0;
    pool.use((call: Call<Client>, next) => {
      if (call.method === 'throws') throw thrown[i++];
      return next(call);
    });
    const controller = new AbortController();
    const errors = [await settled(pool.run(never, { timeout: 100, method: 'throws', signal: controller.signal })), await settled(pool.run(never, { timeout: 100, method: 'throws' }))];
    for (const error of errors) expect(error).toBeInstanceOf(Error);
    expect(inFlight(pool)).toBe(0);
    // Nothing of theirs expires later, and an abort of their signal changes nothing.
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      await vi.advanceTimersByTimeAsync(200);
      controller.abort('late');
      await vi.advanceTimersByTimeAsync(1);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    expect(unhandled).not.toHaveBeenCalled();
    expect(pool.members().map((m) => m.failures + m.cancelled)).toEqual([0, 0]);
    await expect(pool.run(() => Promise.resolve('still works'), { timeout: 100 })).resolves.toBe('still works');
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a middleware that returns no promise fails the timed call with ERR_CALLBACK', async () => {
    const pool = makePool();
    const returnsNoPromise = (call: Call<Client>, next: (call: Call<Client>) => Promise<unknown>): unknown => {
      void next(call);
      return 'not a promise';
    };
    pool.use(returnsNoPromise);
    await expect(pool.run(() => Promise.resolve(1), { timeout: 100 })).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
    await vi.advanceTimersByTimeAsync(200);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a caller abort while the call waits for a token ends it before its function starts', async () => {
    const pool = new ClientPool<Client>({ limit: new TokenBucket({ rate: 1, per: 10_000, burst: 1 }), maxWait: 60_000 });
    pool.add({ name: 'a' });
    await pool.run(() => Promise.resolve(0));
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.resolve(1));
    const call = settled(pool.run(fn, { signal: controller.signal, timeout: 100 }));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('left');
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: 'left' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fn).not.toHaveBeenCalled();
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a hedge that wins ends the first attempt as lost; each of many interleaved hedged calls gets its own value', async () => {
    const pool = makePool();
    const calls = Array.from({ length: 20 }, (_, i) => {
      let n = 0;
      return pool.run(
        () => {
          n++;
          return n === 1 ? new Promise((resolve) => setTimeout(() => resolve(`slow ${i}`), 1_000 + i)) : new Promise((resolve) => setTimeout(() => resolve(`hedge ${i}`), i));
        },
        { hedge: { delay: 10 + (i % 3) }, timeout: 5_000 },
      );
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => `hedge ${i}`));
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
