import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError } from '../../../src/index.js';
import { gate, turns } from '../../helpers/promise-state.js';
import { collected } from '../../helpers/gc.js';

// Pins that the pool keeps nothing of a settled call on these paths: a held call ended at its deadline
// while its hook hangs (s21-attack pinned abort and close(), not the deadline); coalesced callers on a
// long-lived signal (many flights, one watch) once their flights settle or their caller aborted; a
// cached flight's fn (the cache keeps the value, not the call).

describe('settled calls leave nothing behind', () => {
  it('a held call ended at its deadline (hook hangs): fn and options collectable', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const pool = new ClientPool<string>();
      pool.use({ name: 'hang', around: () => new Promise(() => undefined) });
      pool.add('a');
      let fnRef = new WeakRef<object>({});
      let optionsRef = new WeakRef<object>({});
      const settled = (() => {
        const fn = (c: string): string => c;
        const options = { deadline: 100 };
        fnRef = new WeakRef(fn);
        optionsRef = new WeakRef(options);
        return pool.run(fn, options).catch((e: unknown) => e);
      })();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(await settled).toBeInstanceOf(DeadlineExceededError);
      vi.useRealTimers();
      expect(await collected(fnRef)).toBe(true);
      expect(await collected(optionsRef)).toBe(true);
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('coalesced callers on one long-lived signal, 50 flights settled: no fn kept', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const ac = new AbortController();
    const open = gate();
    const refs: WeakRef<object>[] = [];
    const calls = (() => Array.from({ length: 50 }, (_, i) => {
      const fn = async (c: string): Promise<string> => { await open.promise; return c; };
      refs.push(new WeakRef(fn));
      return pool.run(fn, { coalesce: `k${i}`, signal: ac.signal });
    }))();
    await turns();
    open.open();
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['a']));
    for (const ref of refs) expect(await collected(ref)).toBe(true);
    await pool.close();
  });

  it('a coalesced caller that aborted, its flight settled later: no fn kept; the signal lives on', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const keep = new AbortController();
    const ac = new AbortController();
    const open = gate();
    let fnRef = new WeakRef<object>({});
    const leaving = (() => {
      const fn = async (c: string): Promise<string> => { await open.promise; return c; };
      fnRef = new WeakRef(fn);
      return pool.run(fn, { coalesce: 'k', signal: ac.signal }).catch((e: unknown) => e);
    })();
    const staying = pool.run(async (c) => c, { coalesce: 'k', signal: keep.signal });
    await turns();
    ac.abort();
    await leaving;
    open.open();
    expect(await staying).toBe('a');
    expect(await collected(fnRef)).toBe(true);
    await pool.close();
  });

  it('cache: the cached value is kept, the flight fn is not', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    let fnRef = new WeakRef<object>({});
    const first = (() => {
      const fn = async (c: string): Promise<string> => c;
      fnRef = new WeakRef(fn);
      return pool.run(fn, { coalesce: 'k', cache: { ttl: 60_000 } });
    })();
    expect(await first).toBe('a');
    expect(await collected(fnRef)).toBe(true);
    expect(await pool.run(() => 'other', { coalesce: 'k', cache: { ttl: 60_000 } })).toBe('a');
    await pool.close();
  });
});
