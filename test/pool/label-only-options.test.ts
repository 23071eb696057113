import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, TimeoutError, type RunOptions } from '../../src/index.js';

// A call whose options set only a label (`method`, `traceId`) and `retry` runs on its method's plan as it
// is, and `#run` skips the reads of the options it leaves out (src/pool-options.ts, `readWasLabelOnly`).
// These pin that every other option still acts, and that a label of a method with a plan of its own
// still gets that plan.

const never = (): Promise<never> => new Promise(() => {});

describe('run options that set only a label and retries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a label of a method with a timeout of its own gets that timeout', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>({ methods: { slow: { timeout: 50 } } });
    pool.add('a');
    const call = pool.run(never, { method: 'slow', retry: false, traceId: 't' });
    const settled = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60);
    expect(await settled).toBeInstanceOf(TimeoutError);
    await pool.close();
  });

  it('a label of a method that hedges gets its hedge: a second attempt starts after the delay', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>({ methods: { read: { hedge: { delay: 10 } } } });
    pool.add('a');
    pool.add('b');
    const seen: number[] = [];
    const call = pool.run((client, c) => {
      seen.push(c.attempt);
      return c.attempt === 1 ? never() : client;
    }, { method: 'read' });
    await vi.advanceTimersByTimeAsync(15);
    expect(await call).toBeTypeOf('string');
    expect(seen).toEqual([1, 2]);
    await pool.close();
  });

  it.each<[string, RunOptions<string>]>([
    ['timeout', { method: 'get', timeout: 20 }],
    ['deadline', { method: 'get', deadline: 20 }],
    ['a retry and a timeout', { retry: { attempts: 1 }, timeout: 20 }],
  ])('with %s added, the call is timed', async (_what, options) => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    const settled = pool.run(never, options).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30);
    expect((await settled as { code?: string }).code).toMatch(/^ERR_(TIMEOUT|DEADLINE_EXCEEDED)$/);
    await pool.close();
  });

  it('with an aborted signal added, the call rejects AbortedError without running its function', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const fn = vi.fn(() => 'x');
    await expect(pool.run(fn, { method: 'get', signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(fn).not.toHaveBeenCalled();
    await pool.close();
  });

  it('with a hedge added, a second attempt starts', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const call = pool.run((client, c) => (c.attempt === 1 ? never() : client), { method: 'get', hedge: { delay: 5 } });
    await vi.advanceTimersByTimeAsync(10);
    expect(await call).toBeTypeOf('string');
    await pool.close();
  });

  it('with a key added, the call goes to the key\'s client every time', async () => {
    const pool = new ClientPool<string>();
    for (const name of ['a', 'b', 'c', 'd']) pool.add(name);
    const picked = new Set<string>();
    for (let i = 0; i < 8; i++) picked.add(await pool.run((client) => client, { method: 'get', key: 'user-7' }));
    expect(picked.size).toBe(1);
    await pool.close();
  });

  it('a getter of a timed call that runs a label-only call of its own: the outer call is still timed', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    let inner: Promise<unknown> | undefined;
    const options = {
      method: 'get',
      get timeout(): number {
        // Read while the outer options are read: the inner call's read finishes first.
        inner ??= pool.run((client) => client, { method: 'inner' });
        return 20;
      },
    };
    const settled = pool.run(never, options).catch((e: unknown) => e);
    expect(await inner).toBe('a');
    await vi.advanceTimersByTimeAsync(30);
    expect(await settled).toBeInstanceOf(TimeoutError);
    await pool.close();
  });

  it('a call with a label and retries that fails is retried on another client, as a plain call with retries is', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const tried: string[] = [];
    const result = await pool.run((client) => {
      tried.push(client);
      if (tried.length === 1) throw new Error('boom');
      return client;
    }, { method: 'get', retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    expect(tried).toHaveLength(2);
    expect(new Set(tried).size).toBe(2);
    expect(result).toBe(tried[1]);
    await pool.close();
  });

  it('calls with a label and retries feed the retry budget, in a pool with no retries of its own', async () => {
    const pool = new ClientPool<string>({ retryBudget: { ratio: 0.5, reserve: 1 } });
    pool.add('a');
    pool.add('b');
    const retry = { attempts: 2, backoff: { initial: 0, max: 0 } };
    let calls = 0;
    await pool.run((client) => {
      if (++calls === 1) throw new Error('boom');
      return client;
    }, { method: 'get', retry });
    // The retry withdrew the one token; two calls deposit 0.5 each.
    expect(pool.retryBudget).toEqual({ balance: 0, refused: 0 });
    await pool.run((client) => client, { method: 'get', retry });
    await pool.run((client) => client, { retry });
    expect(pool.retryBudget).toEqual({ balance: 1, refused: 0 });
    await pool.close();
  });
});

