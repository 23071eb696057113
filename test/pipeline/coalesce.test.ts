import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientPool, hasErrorCode, type RunOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { unhandledDuring } from '../helpers/unhandled.js';

/** A pool of one client; `fn` makes an upstream call (counted) that settles when the test says. */
function upstream(): { pool: ClientPool<object>; fn: () => Promise<string>; calls: () => number; answer: (value: string) => void; fail: (error: Error) => void } {
  const gate = deferred<string>();
  let calls = 0;
  const pool = new ClientPool<object>();
  pool.add({});
  return {
    pool,
    fn: () => {
      calls++;
      return gate.promise;
    },
    calls: () => calls,
    answer: (value) => gate.resolve(value),
    fail: (error) => gate.reject(error),
  };
}

describe('coalesce: overlapping calls with one key share one journey', () => {
  it('100 concurrent identical calls make one upstream call, and each gets its value', async () => {
    const u = upstream();
    const results = Array.from({ length: 100 }, () => u.pool.run(u.fn, { coalesce: 'slot' }));
    u.answer('v');
    expect(await Promise.all(results)).toEqual(Array(100).fill('v'));
    expect(u.calls()).toBe(1);
    // Over: the next call with the key makes its own.
    await u.pool.run(u.fn, { coalesce: 'slot' });
    expect(u.calls()).toBe(2);
    await u.pool.close();
  });

  it('the error reaches every caller, as the caller of one journey gets it', async () => {
    const u = upstream();
    const results = Array.from({ length: 3 }, () => u.pool.run(u.fn, { coalesce: 'k' }).catch((e: unknown) => e));
    u.fail(new Error('down'));
    const errors = await Promise.all(results);
    expect(errors.every((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'))).toBe(true);
    expect(new Set(errors).size).toBe(1);
    expect(u.calls()).toBe(1);
    await u.pool.close();
  });

  it('different keys, and calls without a key, are not shared', async () => {
    const u = upstream();
    const results = [u.pool.run(u.fn, { coalesce: 'a' }), u.pool.run(u.fn, { coalesce: 'b' }), u.pool.run(u.fn)];
    expect(u.calls()).toBe(3);
    u.answer('v');
    await Promise.all(results);
    await u.pool.close();
  });

  it('a caller that aborts leaves alone: the others still get the value, and the upstream call is not aborted', async () => {
    const u = upstream();
    const leaving = new AbortController();
    let upstreamSignal: AbortSignal | undefined;
    const first = u.pool.run((client, call) => {
      upstreamSignal = call.signal;
      return u.fn();
    }, { coalesce: 'k', signal: leaving.signal });
    const staying = u.pool.run(u.fn, { coalesce: 'k' });
    leaving.abort(new Error('caller left'));
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(upstreamSignal?.aborted).toBe(false);
    u.answer('v');
    await expect(staying).resolves.toBe('v');
    await u.pool.close();
  });

  it('once every caller has aborted, the shared call is aborted too, and nothing is left unhandled', async () => {
    const u = upstream();
    const controllers = [new AbortController(), new AbortController()];
    let upstreamSignal: AbortSignal | undefined;
    const unhandled = await unhandledDuring(async () => {
      const calls = controllers.map((controller) =>
        u.pool.run((client, call) => {
          upstreamSignal = call.signal;
          return u.fn();
        }, { coalesce: 'k', signal: controller.signal }).catch((e: unknown) => e),
      );
      for (const controller of controllers) controller.abort(new Error('gone'));
      const errors = await Promise.all(calls);
      expect(errors.map((e) => (e as { code: string }).code)).toEqual(['ERR_ABORTED', 'ERR_ABORTED']);
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(unhandled).toEqual([]);
    expect(upstreamSignal?.aborted).toBe(true);
    expect(u.pool.members()[0]!.inFlight).toBe(0);
    await u.pool.close();
  });

  it('a caller whose signal is aborted already is refused at once and joins nothing', async () => {
    const u = upstream();
    await expect(u.pool.run(u.fn, { coalesce: 'k', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(u.calls()).toBe(0);
    await u.pool.close();
  });

  it.each<[unknown, string]>([
    ['', 'empty'],
    [42, 'a number'],
  ])('refuses coalesce %j (%s) with InvalidOptionError naming coalesce', async (value) => {
    const u = upstream();
    await expect(u.pool.run(u.fn, { coalesce: value } as unknown as RunOptions<object>)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'coalesce' });
    await u.pool.close();
  });
});

describe('coalesce, as a property: every caller gets the one result of its key, one upstream call per overlapping group', () => {
  it('holds for any mix of keys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 30 }), async (keys) => {
        const pool = new ClientPool<object>();
        pool.add({});
        const gates = new Map<string, ReturnType<typeof deferred<string>>>();
        let upstreamCalls = 0;
        const results = keys.map((key) =>
          pool.run(() => {
            upstreamCalls++;
            const gate = deferred<string>();
            gates.set(key, gate);
            return gate.promise;
          }, { coalesce: key }),
        );
        expect(upstreamCalls).toBe(new Set(keys).size);
        for (const [key, gate] of gates) gate.resolve(`value of ${key}`);
        expect(await Promise.all(results)).toEqual(keys.map((key) => `value of ${key}`));
        await pool.close();
      }),
      { numRuns: 50 },
    );
  });
});

describe('cache: a coalesced result reused for ttl, and served stale (and said so) when calls fail', () => {
  const clock = { time: 0, now(): number { return this.time; } };

  function cached(options: { cacheSize?: number; breaker?: { maxFailures: number; cooldown: number } } = {}): { pool: ClientPool<object>; upstream: { calls: number; fail: boolean } } {
    clock.time = 0;
    const upstream = { calls: 0, fail: false };
    const pool = new ClientPool<object>({ clock, ...options });
    pool.add({});
    return { pool, upstream };
  }

  const fetchBlock = (upstream: { calls: number; fail: boolean }) => (): string => {
    upstream.calls++;
    if (upstream.fail) throw new Error('upstream down');
    return `block@${clock.time}`;
  };

  it('serves a result younger than ttl without a call, and calls again once it is older', async () => {
    const { pool, upstream } = cached();
    const options = { coalesce: 'block', cache: { ttl: 1_000 } };
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@0');
    clock.time = 999;
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@0');
    expect(upstream.calls).toBe(1);
    clock.time = 1_000;
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@1000');
    expect(upstream.calls).toBe(2);
    await pool.close();
  });

  it('with every circuit open, a value younger than staleIfError is served and onStale is told, never silently', async () => {
    const { pool, upstream } = cached({ breaker: { maxFailures: 1, cooldown: 60_000 } });
    const stale: { ageMs: number; code: string }[] = [];
    const options = { coalesce: 'block', cache: { ttl: 100, staleIfError: 10_000, onStale: ({ ageMs, error }: { ageMs: number; error: { code: string } }) => stale.push({ ageMs, code: error.code }) } };
    await pool.run(fetchBlock(upstream), options);
    upstream.fail = true;
    clock.time = 500;
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@0');
    clock.time = 600;
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@0');
    expect(stale).toEqual([
      { ageMs: 500, code: 'ERR_CLIENT_CALL' },
      { ageMs: 600, code: 'ERR_ALL_CIRCUITS_OPEN' },
    ]);
    clock.time = 10_000;
    await expect(pool.run(fetchBlock(upstream), options)).rejects.toMatchObject({ code: 'ERR_ALL_CIRCUITS_OPEN' });
    await pool.close();
  });

  it('without staleIfError a failure is the caller\'s, as without a cache', async () => {
    const { pool, upstream } = cached();
    const options = { coalesce: 'block', cache: { ttl: 100 } };
    await pool.run(fetchBlock(upstream), options);
    upstream.fail = true;
    clock.time = 200;
    await expect(pool.run(fetchBlock(upstream), options)).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    await pool.close();
  });

  it('keeps at most cacheSize results, the least recently used dropped first', async () => {
    const { pool, upstream } = cached({ cacheSize: 2 });
    const run = (key: string): Promise<unknown> => pool.run(fetchBlock(upstream), { coalesce: key, cache: { ttl: 60_000 } });
    await run('a');
    await run('b');
    await run('a'); // a is now the most recent
    await run('c'); // pushes b out
    expect(upstream.calls).toBe(3);
    await run('a');
    expect(upstream.calls).toBe(3);
    await run('b');
    expect(upstream.calls).toBe(4);
    await pool.close();
  });

  it('an onStale that throws is a warning; the caller still gets the stale value', async () => {
    const { pool, upstream } = cached();
    const options = { coalesce: 'k', cache: { ttl: 0, staleIfError: 1_000, onStale: () => { throw new Error('hook'); } } };
    await pool.run(fetchBlock(upstream), options);
    upstream.fail = true;
    expect(await pool.run(fetchBlock(upstream), options)).toBe('block@0');
    await pool.close();
  });

  it.each<[string, unknown, unknown]>([
    ['cache without coalesce', undefined, { ttl: 10 }],
    ['a negative ttl', 'k', { ttl: -1 }],
    ['a NaN staleIfError', 'k', { ttl: 1, staleIfError: Number.NaN }],
    ['a misspelt key', 'k', { tll: 1 }],
    ['an onStale that is not a function', 'k', { ttl: 1, onStale: 'log' }],
    ['a staleIfError without onStale (a stale result is never served silently)', 'k', { ttl: 1, staleIfError: 1_000 }],
  ])('refuses %s with InvalidOptionError', async (_what, coalesce, cache) => {
    const { pool, upstream } = cached();
    await expect(pool.run(fetchBlock(upstream), { coalesce, cache } as unknown as RunOptions<object>)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(upstream.calls).toBe(0);
    await pool.close();
  });

  it.each([0, 1.5, -1, '10'])('new ClientPool({ cacheSize: %s }) throws InvalidOptionError naming cacheSize', (cacheSize) => {
    expect(() => new ClientPool({ cacheSize } as never)).toThrow(expect.objectContaining({ option: 'cacheSize' }) as Error);
  });
});
