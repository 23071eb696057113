import { describe, expect, it } from 'vitest';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { InvalidOptionError, isClientPoolError, type RunOptions } from '../../../src/index.js';
import { settle, throwsOnRead, watchedPool, WATCHED, WATCHES } from './helpers.js';

// Getters that call back into the pool while run() reads them, and many calls at once, some refused.

useUnhandledGuard({ time: 'real' });

const endsFor = (watch: string): number => (watch === 'onCallEnd' || watch === 'all' ? 1 : 0);

describe.each(WATCHES)('re-entrant getters, watched by %s', (watch) => {
  it('a method getter that starts another pool.run: both calls end on their own terms, each heard once', async () => {
    const w = watchedPool(watch);
    let inner: Promise<unknown> | undefined;
    let reads = 0;
    const options = {
      get method(): string {
        reads++;
        inner ??= w.pool.run((c) => `inner ${c}`, { method: 'inner', timeout: 1_000 });
        return 'outer';
      },
    };
    const outer = await settle(w.pool.run((c, call) => `${call.method} ${c}`, options));
    expect(outer.ok).toBe(true);
    expect(outer.value).toMatch(/^outer /);
    expect(await settle(inner!)).toMatchObject({ ok: true });
    expect(reads).toBe(1);
    expect(w.ends).toHaveLength(2 * endsFor(watch));
    expect(new Set(w.ends.map((e) => e.method))).toEqual(new Set(w.ends.length > 0 ? ['inner', 'outer'] : []));
    for (const m of w.pool.members()) expect(m.inFlight).toBe(0);
    await w.done();
  });

  it('a timeout getter that starts a pool.run with refused options, then throws itself: both refused, neither function runs', async () => {
    const w = watchedPool(watch);
    let inner: Promise<unknown> | undefined;
    let runs = 0;
    const options = {
      method: 'outer',
      get timeout(): number {
        inner ??= w.pool.run(() => {
      runs++;
    }, throwsOnRead('priority', 1, 'high').options);
        throw new Error('outer timeout');
      },
    };
    const outer = await settle(w.pool.run(() => {
      runs++;
    }, options));
    const innerResult = await settle(inner!);
    expect(outer.value).toBeInstanceOf(InvalidOptionError);
    expect(((outer.value as Error).cause as Error).message).toBe('outer timeout');
    expect(innerResult.value).toBeInstanceOf(InvalidOptionError);
    expect(runs).toBe(0);
    expect(w.scopes).toEqual([]);
    expect(w.ends).toHaveLength(2 * endsFor(watch));
    await w.done();
  });

  it('a getter that closes the pool while run() reads it: the call is refused with PoolClosedError, its function never runs, close() resolves', async () => {
    const w = watchedPool(watch);
    let closing: Promise<void> | undefined;
    let runs = 0;
    const options = {
      get method(): string {
        closing ??= w.pool.close();
        return 'get';
      },
    };
    const r = await settle(w.pool.run(() => {
      runs++;
    }, options));
    expect(r.ok).toBe(false);
    expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    expect(runs).toBe(0);
    await expect(closing!).resolves.toBeUndefined();
    expect(w.ends).toHaveLength(endsFor(watch));
    await w.done();
  });

  it('a getter that closes the pool and then throws: a typed clientpool error, the function never runs, close() resolves', async () => {
    const w = watchedPool(watch);
    let closing: Promise<void> | undefined;
    let runs = 0;
    const options = {
      get method(): string {
        closing ??= w.pool.close();
        throw new Error('after close');
      },
    };
    const r = await settle(w.pool.run(() => {
      runs++;
    }, options));
    expect(r.ok).toBe(false);
    expect(isClientPoolError(r.value)).toBe(true);
    expect(runs).toBe(0);
    await expect(closing!).resolves.toBeUndefined();
    await w.done();
  });

  it('a getter that destroys the pool while run() reads it: refused, destroy() resolves', async () => {
    const w = watchedPool(watch);
    let destroying: Promise<void> | undefined;
    const options = {
      get timeout(): number {
        destroying ??= w.pool.destroy(new Error('bye'));
        return 1_000;
      },
    };
    const r = await settle(w.pool.run((c) => c, options));
    expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    await expect(destroying!).resolves.toBeUndefined();
    await w.done();
  });
});

describe.each(WATCHES)('many calls at once, watched by %s', (watch) => {
  it('400 calls, every fourth with options that cannot be read: each refused one rejects with InvalidOptionError and runs nothing, the others resolve, every call heard once', async () => {
    const w = watchedPool(watch, { timeout: 1_000, retry: { attempts: 2 } }, ['a', 'b', 'c']);
    let runs = 0;
    const calls = Array.from({ length: 400 }, (_, i) => {
      const options = i % 4 === 0 ? throwsOnRead('timeout', 1, 10, { method: `m${i % 3}` }).options : { method: `m${i % 3}`, key: i % 8 === 1 ? `k${i}` : undefined };
      return settle(w.pool.run(async (c) => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, i % 5));
        return c;
      }, options));
    });
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      if (i % 4 === 0) expect(r.value).toBeInstanceOf(InvalidOptionError);
      else expect(r.ok).toBe(true);
    });
    expect(runs).toBe(300);
    expect(w.scopes).toHaveLength(watch === 'around' || watch === 'all' ? 300 : 0);
    expect(w.ends).toHaveLength(400 * endsFor(watch));
    if (w.trace.length > 0) {
      expect(w.trace.filter((e) => e.kind === 'start')).toHaveLength(400);
      expect(w.trace.filter((e) => e.kind === 'asyncEnd')).toHaveLength(400);
      expect(w.trace.filter((e) => e.kind === 'error')).toHaveLength(100);
    }
    for (const m of w.pool.members()) expect(m.inFlight).toBe(0);
    await expect(w.done()).resolves.toBeUndefined();
  });

  it('calls in flight with refused calls arriving while close() waits: close resolves after the ones in flight, refused ones get PoolClosedError or InvalidOptionError', async () => {
    const w = watchedPool(watch);
    const inFlight = Array.from({ length: 20 }, () => settle(w.pool.run((c) => new Promise((resolve) => setTimeout(() => resolve(c), 5)), { method: 'slow' })));
    const closing = w.pool.close();
    const late = await Promise.all(Array.from({ length: 20 }, () => settle(w.pool.run((c) => c, throwsOnRead('method', 1, 'x').options as RunOptions<string>))));
    for (const r of late) expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    for (const r of await Promise.all(inFlight)) expect(r.ok).toBe(true);
    await expect(closing).resolves.toBeUndefined();
    for (const m of w.pool.members()) expect(m.inFlight).toBe(0);
    await w.done();
  });
});

describe.each(WATCHED)('hooks that misbehave around refused calls, watched by %s', (watch) => {
  it('an onCallEnd hook that throws for a refused call changes nothing for the caller', async () => {
    const w = watchedPool(watch);
    w.pool.use({ name: 'thrower', onCallEnd: () => {
      throw new Error('hook');
    } });
    const { options } = throwsOnRead('timeout', 1, 5);
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    await w.done();
  });

  it('an onCallEnd hook that runs the same refused options again: each call refused once, no loop, each heard once', async () => {
    const w = watchedPool(watch);
    const { options } = throwsOnRead('timeout', 1, 5);
    const again: Promise<unknown>[] = [];
    w.pool.use({ name: 'again', onCallEnd: (end) => {
      if (again.length === 0 && end.error !== undefined) again.push(settle(w.pool.run((c) => c, end.options)));
    } });
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    // The second run reads the same object: its getter answers now, so that call runs (it is a new call).
    expect(await again[0]).toEqual({ ok: true, value: expect.any(String) as unknown });
    await w.done();
  });
});
