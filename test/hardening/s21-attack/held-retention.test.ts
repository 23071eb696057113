import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, PoolClosedError } from '../../../src/index.js';
import { turns } from '../../helpers/promise-state.js';
import { collected } from '../../helpers/gc.js';

// Pins that a held call ended by its caller's abort or by close() is not retained by the pool: with a
// hook that never settles and keeps nothing, the call's fn (and its options) can be collected at once.

function hangingPool(): ClientPool<string> {
  const pool = new ClientPool<string>();
  pool.use({ name: 'hang', around: () => new Promise(() => undefined) });
  pool.add('a');
  return pool;
}

describe('held calls leave nothing behind', () => {
  it('aborted while held: fn and options collectable, pool still open', async () => {
    const pool = hangingPool();
    const ac = new AbortController();
    let fnRef = new WeakRef<object>({});
    let optionsRef = new WeakRef<object>({});
    const settled = (() => {
      const fn = (c: string): string => c;
      const options = { signal: ac.signal, timeout: 1000 };
      fnRef = new WeakRef(fn);
      optionsRef = new WeakRef(options);
      return pool.run(fn, options).catch((e: unknown) => e);
    })();
    await turns();
    ac.abort();
    expect(await settled).toBeInstanceOf(AbortedError);
    expect(await collected(fnRef)).toBe(true);
    expect(await collected(optionsRef)).toBe(true);
    await pool.close();
  });

  it('ended by close(): fn collectable', async () => {
    const pool = hangingPool();
    let fnRef = new WeakRef<object>({});
    const settled = (() => {
      const fn = (c: string): string => c;
      fnRef = new WeakRef(fn);
      return pool.run(fn).catch((e: unknown) => e);
    })();
    await turns();
    await pool.close();
    expect(await settled).toBeInstanceOf(PoolClosedError);
    expect(await collected(fnRef)).toBe(true);
  });

  it('(control) a hook that keeps next() keeps fn: the check can tell', async () => {
    const kept: unknown[] = [];
    const pool = new ClientPool<string>();
    pool.use({ name: 'keeps', around: (_s, next) => (kept.push(next), new Promise(() => undefined)) });
    pool.add('a');
    let fnRef = new WeakRef<object>({});
    const settled = (() => {
      const fn = (c: string): string => c;
      fnRef = new WeakRef(fn);
      return pool.run(fn, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    })();
    void settled;
    const ac = new AbortController();
    const held = (() => {
      const fn = (c: string): string => c;
      fnRef = new WeakRef(fn);
      return pool.run(fn, { signal: ac.signal }).catch((e: unknown) => e);
    })();
    await turns();
    ac.abort();
    expect(await held).toBeInstanceOf(AbortedError);
    expect(await collected(fnRef)).toBe(false);
    expect(kept).toHaveLength(1);
    await pool.close();
  });

  it('1 000 calls aborted while held on one signal: each settles, the signal keeps no listener', async () => {
    const pool = hangingPool();
    const ac = new AbortController();
    const calls = Array.from({ length: 1000 }, () => pool.run((c) => c, { signal: ac.signal }).catch((e: unknown) => e));
    await turns();
    ac.abort();
    const errors = await Promise.all(calls);
    expect(errors.every((e) => e instanceof AbortedError)).toBe(true);
    await pool.close();
  });
});
