import { describe, expect, it } from 'vitest';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import type { RunOptions } from '../../../src/index.js';
import { settle, watchedPool, WATCHES } from './helpers.js';

// Readable options: every getter is run exactly once per call, whatever watches it and however many
// attempts it makes; every observer sees the same copy; trace messages are one object per call.

useUnhandledGuard({ time: 'real' });

/** `values` as enumerable getters that count their reads. */
function counted(values: Record<string, unknown>): { options: RunOptions<string>; reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  const options = {};
  for (const [key, value] of Object.entries(values)) {
    reads[key] = 0;
    Object.defineProperty(options, key, {
      enumerable: true,
      get() {
        reads[key]!++;
        return value;
      },
    });
  }
  return { options: options, reads };
}

describe.each(WATCHES)('getters read once, watched by %s', (watch) => {
  it.each([
    ['retries', { method: 'get', retry: { attempts: 3, backoff: { initial: 1, max: 1 } } }, 3],
    ['a hedge', { method: 'get', hedge: { delay: 1, maxHedges: 1 }, timeout: 50 }, 2],
    ['a timeout and a signal', { method: 'get', timeout: 20, signal: new AbortController().signal }, 1],
    ['coalesce', { method: 'get', coalesce: 'k' }, 1],
    ['coalesce with a cache', { method: 'get', coalesce: 'k2', cache: { ttl: 1_000 } }, 1],
    ['a deadline, a key and a priority', { method: 'get', deadline: 1_000, key: 'x', priority: 'high' }, 1],
  ])('with %s: each getter once, the call fails with a typed error after its attempts', async (_name, values, attempts) => {
    const w = watchedPool(watch, { retryBudget: false }, ['a', 'b', 'c']);
    const { options, reads } = counted(values);
    let runs = 0;
    const r = await settle(w.pool.run(async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('down');
    }, options));
    expect(r.ok).toBe(false);
    expect((r.value as { code?: string }).code).toMatch(/^ERR_/);
    expect((r.value as Error).cause).toBeDefined();
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(attempts);
    for (const key of Object.keys(values)) expect([key, reads[key]]).toEqual([key, 1]);
    if (watch === 'onCallEnd' || watch === 'all') {
      expect(w.ends).toHaveLength(1);
      expect(w.ends[0]!.error).toBe(r.value);
      expect(w.ends[0]!.options).not.toBe(options);
    }
    if (watch === 'around' || watch === 'all') expect(w.scopes).toHaveLength(1);
    if (w.trace.length > 0) {
      expect(w.trace.map((e) => e.kind)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      expect(w.trace[0]!.message.error).toBe(r.value);
      expect(w.trace[0]!.message.method).toBe('get');
    }
    if (w.ends.length > 0 && w.scopes.length > 0) expect(w.ends[0]!.options).toBe(w.scopes[0]!.options);
    if (w.ends.length > 0 && w.trace.length > 0) expect(w.ends[0]!.options).toBe(w.trace[0]!.message.options);
    for (const m of w.pool.members()) expect(m.inFlight).toBe(0);
    await w.done();
  });

  it('a successful call: each getter once, the trace has start, end, asyncStart, asyncEnd and its result', async () => {
    const w = watchedPool(watch);
    const { options, reads } = counted({ method: 'get', timeout: 1_000, traceId: 't1' });
    const r = await settle(w.pool.run((c, call) => `${c}:${call.method}`, options));
    expect(r).toEqual({ ok: true, value: 'a:get' });
    expect(reads).toEqual({ method: 1, timeout: 1, traceId: 1 });
    if (w.trace.length > 0) {
      expect(w.trace.map((e) => e.kind)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expect(w.trace[0]!.message.result).toBe('a:get');
    }
    await w.done();
  });

  it('two coalesced callers with getters: each caller’s getters read once, one upstream call, each heard once', async () => {
    const w = watchedPool(watch);
    const first = counted({ method: 'get', coalesce: 'same' });
    const second = counted({ method: 'get', coalesce: 'same' });
    let runs = 0;
    const fn = (c: string): Promise<string> => {
      runs++;
      return new Promise((resolve) => setTimeout(() => resolve(c), 10));
    };
    const [a, b] = await Promise.all([settle(w.pool.run(fn, first.options)), settle(w.pool.run(fn, second.options))]);
    expect(a.ok && b.ok).toBe(true);
    expect(runs).toBe(1);
    expect(first.reads).toEqual({ method: 1, coalesce: 1 });
    expect(second.reads).toEqual({ method: 1, coalesce: 1 });
    if (watch === 'onCallEnd' || watch === 'all') expect(w.ends.map((e) => e.source).sort()).toEqual(['shared', 'upstream']);
    await w.done();
  });
});

describe('quorum with hooks, options that can be read plainly', () => {
  it('onCallEnd hears a quorum once, labelled by its plain method, with the options read once (a copy, as run() gives)', async () => {
    const w = watchedPool('onCallEnd', {}, ['a', 'b', 'c']);
    const options = { of: 3, agree: 2, method: 'q' };
    await expect(w.pool.quorum(() => 1, options)).resolves.toBe(1);
    expect(w.ends).toHaveLength(1);
    expect(w.ends[0]!.method).toBe('q');
    expect(w.ends[0]!.options).toEqual(options);
    expect(w.ends[0]!.options).not.toBe(options);
    for (const m of w.pool.members()) expect(m.inFlight).toBe(0);
    await w.done();
  });

  it('a quorum with an unknown key is refused with InvalidOptionError, heard once by onCallEnd, no function run', async () => {
    const w = watchedPool('all', {}, ['a', 'b', 'c']);
    let runs = 0;
    const r = await settle(w.pool.quorum(() => {
      runs++;
    }, { of: 2, bogus: 1 } as never));
    expect((r.value as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    expect(runs).toBe(0);
    expect(w.ends).toHaveLength(1);
    expect(w.scopes).toEqual([]);
    await w.done();
  });

  it('a quorum on a closed pool with hooks: PoolClosedError, heard once', async () => {
    const w = watchedPool('onCallEnd', {}, ['a', 'b']);
    await w.pool.close();
    const r = await settle(w.pool.quorum(() => 1, { of: 2 }));
    expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    expect(w.ends).toHaveLength(1);
    await w.done();
  });
});
