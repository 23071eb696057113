/**
 * A caller's `signal` aborting, or `destroy()`, while the call's around hook awaits something before
 * `next()` (an async lookup, a lock): the caller is not released until the hook goes on. README:
 * destroy() "ends every attempt in flight at once ... Only a call with no timeout and no signal whose
 * function ignores `call.signal` keeps its caller waiting on it"; docs/call-pipeline.md: a caller's abort
 * ends the call with AbortedError. Older than 3a81f89, akin to s20's faults 6 and 7 (deadline at next(),
 * close() not waiting), but a distinct promise: a caller who aborts is not let go.
 *
 * Fixed since (session 21): a call is held in its hooks until the innermost next() (src/pipeline/held-calls.ts);
 * its caller's abort rejects it with AbortedError at once, and close() and destroy() end it with PoolClosedError.
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, PoolClosedError } from '../../../src/index.js';
import { deferred, inFlight, noUnhandled, run, shape, ticks, traced, watchedPool, type Settled, type Watchers } from './helpers.js';

const ALL: Watchers = { around: true, onCallEnd: true, trace: true };

function track(p: Promise<Settled>): { readonly state: () => Settled | 'pending' } {
  let state: Settled | 'pending' = 'pending';
  void p.then((s) => (state = s));
  return { state: () => state };
}

describe('abort or destroy while an around hook holds the call before next()', () => {
  it('the caller\'s abort rejects the call with AbortedError while its around hook still awaits (the caller is let go)', async () => {
    const gate = deferred();
    const w = watchedPool(ALL, {}, ['a'], async (_s, next) => { await gate.promise; return next(); });
    const ac = new AbortController();
    const p = run(w.pool, (c: string) => c, { signal: ac.signal });
    const t = track(p);
    await ticks();
    ac.abort(new Error('caller gave up'));
    await ticks(20);
    const state = t.state();
    gate.resolve(undefined);
    await p;
    expect(state).not.toBe('pending');
    await w.done();
  });

  it('destroy() rejects a call with a signal, held in its around hook, with PoolClosedError before destroy() resolves', async () => {
    const gate = deferred();
    const w = watchedPool(ALL, {}, ['a'], async (_s, next) => { await gate.promise; return next(); });
    const ac = new AbortController();
    const p = run(w.pool, (c: string) => c, { signal: ac.signal, method: 'get' });
    const t = track(p);
    await ticks();
    await w.pool.destroy(new Error('shutdown'));
    await ticks(5);
    const state = t.state();
    gate.resolve(undefined);
    await p;
    expect(state).not.toBe('pending');
    await w.done();
  });

  it('control: when the held hook goes on, the aborted call ends with AbortedError, fn never runs, each watcher hears it once, nothing in flight or unhandled', async () => {
    const seen = await noUnhandled(async () => {
      const gate = deferred();
      const w = watchedPool(ALL, {}, ['a'], async (_s, next) => { await gate.promise; return next(); });
      const ac = new AbortController();
      let fnRuns = 0;
      const p = run(w.pool, (c: string) => (fnRuns++, c), { signal: ac.signal, method: 'get' });
      await ticks();
      ac.abort(new Error('caller gave up'));
      gate.resolve(undefined);
      const got = await p;
      expect(got.value).toBeInstanceOf(AbortedError);
      expect(fnRuns).toBe(0);
      expect(w.scopes).toHaveLength(1);
      expect(w.ends).toHaveLength(1);
      expect(w.ends[0]!.error).toBe(got.value);
      expect(w.ends[0]!.method).toBe('get');
      expect(traced(w, 'start')).toBe(1);
      expect(traced(w, 'asyncEnd')).toBe(1);
      expect(inFlight(w.pool)).toBe(0);
      await w.done();
    });
    expect(seen).toEqual([]);
  });

  it('control: destroy() while a hook holds a call, then the hook goes on: PoolClosedError, destroy() resolved, nothing in flight', async () => {
    const gate = deferred();
    const w = watchedPool(ALL, {}, ['a'], async (_s, next) => { await gate.promise; return next(); });
    const p = run(w.pool, (c: string) => c, { method: 'get' });
    await ticks();
    await w.pool.destroy(new Error('shutdown'));
    gate.resolve(undefined);
    const got = await p;
    expect(got.value).toBeInstanceOf(PoolClosedError);
    expect(shape(got)).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(inFlight(w.pool)).toBe(0);
    await w.done();
  });
});
