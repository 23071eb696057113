import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineExceededError, PoolClosedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { rig, type Rig } from '../../helpers/around-rig.js';

// Pins what the deadline queue keeps once the pool closed (HeldCalls.inside, session 22; was HeldCalls.outliveQueue,
// 4f5d944): the timer of an INSIDE call once the pool closed is cleared
// when the hook answers (no timer left), is ended by destroy() (session 22: before, it kept its deadline), survives a queue cleared
// while the call's entry was DUE (a stalled timer, its expiry put off to after the loop's I/O), and no
// call can enter INSIDE after close(): a late next() is refused and arms nothing.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

let r: Rig | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
});

const hang = (): Promise<never> => new Promise(() => undefined);

describe('INSIDE calls when the pool has closed', () => {
  it('the hook answers after close(): the caller gets its answer, the own timer is cleared, heard once', async () => {
    const slow = gate();
    r = rig([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const seen = state(r.pool.run(() => 'v', { deadline: 100 }));
    await turns();
    await r.pool.close();
    expect(vi.getTimerCount()).toBe(1);
    await r.advance(50);
    slow.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(vi.getTimerCount()).toBe(0);
    await r.advance(100);
    await turns();
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toEqual([{ result: 'v' }]);
  });

  it('destroy(reason) with the hook hanging in finally: PoolClosedError with the reason a turn later, not at the deadline; once; no listener, no timer', async () => {
    const slow = gate();
    const ac = new AbortController();
    r = rig([async (_s, next) => { try { return await next(); } finally { await slow.promise; } }]);
    const seen = state(r.pool.run(hang, { deadline: 100, signal: ac.signal }));
    await turns();
    const reason = new Error('boom');
    await r.pool.destroy(reason);
    await turns();
    expect(inFlight(r.pool)).toBe(0);
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
    expect(r.ends.map((e) => e.error)).toEqual([error]);
    expect(r.traceEnds).toEqual([error]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    await r.advance(200);
    slow.open();
    await turns();
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toHaveLength(1);
  });

  it('destroy() in the gap of a stalled timer (entries DUE, expiry put off): the caller still goes, once; nothing left', async () => {
    const slow = gate();
    r = rig([async (_s, next) => { try { return await next(); } finally { await slow.promise; } }]);
    const seen = state(r.pool.run(hang, { deadline: 100 }));
    await turns();
    const pool = r.pool;
    let destroyed: Promise<void> | undefined;
    // Same ms as the queue's timer, set after it: runs right after it, before the put-off expiry.
    setTimeout(() => void (destroyed = pool.destroy(new Error('boom'))), 100);
    await r.advance(100, 110);
    await destroyed;
    await turns();
    await r.advance(5, 115);
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toHaveLength(1);
    expect(inFlight(r.pool)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
    await turns();
    expect(r.ends).toHaveLength(1);
  });

  it('a hook that calls next() after close() resolved: refused (PoolClosedError), fn never runs, no timer armed', async () => {
    const g = gate();
    let ran = 0;
    let late: Promise<unknown> | undefined;
    r = rig([async (_s, next) => {
      await g.promise;
      late = next();
      return late;
    }]);
    const seen = state(r.pool.run(() => { ran++; return 'v'; }, { deadline: 100 }));
    await turns();
    await r.pool.close();
    expect(errorOf(seen())).toBeInstanceOf(PoolClosedError);
    g.open();
    await turns();
    expect(late).toBeDefined();
    await expect(late).rejects.toBeInstanceOf(PoolClosedError);
    expect(ran).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toHaveLength(1);
  });
});
