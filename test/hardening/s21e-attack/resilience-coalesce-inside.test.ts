import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineExceededError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { rig, type Rig } from '../../helpers/around-rig.js';

// Pins the moved entry (4f5d944) with retries and hedges, whose attempts arm their own deadlines when they
// start, and with coalesce (a held starter whose flight has a joiner): a hook's fallback 1 ms after the
// pipeline's error reaches the caller; a hook that hangs lets each caller go once; inFlight back to 0,
// onCallEnd and the trace once per caller, no listener left on the signal, no timer left.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

let r: Rig | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
});

const fallbackHook = async (_s: unknown, next: () => Promise<unknown>): Promise<unknown> => {
  try {
    return await next();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return 'fallback';
  }
};

describe('retries, hedges and coalesce past next()', () => {
  it('retries failing every 30 ms until the deadline: a 1 ms fallback reaches the caller, heard once', async () => {
    let n = 0;
    r = rig([fallbackHook], {}, ['a', 'b']);
    const fn = async (): Promise<never> => {
      n++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error(`x${n}`);
    };
    const seen = state(r.pool.run(fn, { deadline: 100, retry: { attempts: 10 } }));
    for (let t = 1; t <= 110; t++) await r.advance(1);
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'fallback' });
    expect(n).toBeGreaterThan(1);
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toEqual([{ result: 'fallback' }]);
    expect(inFlight(r.pool)).toBe(0);
  });

  it('a hedge started at 40 ms, both hanging: a 1 ms fallback after the deadline reaches the caller', async () => {
    r = rig([fallbackHook], {}, ['a', 'b']);
    const seen = state(r.pool.run(() => new Promise(() => undefined), { deadline: 100, hedge: { delay: 40 } }));
    for (let t = 1; t <= 110; t++) await r.advance(1);
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'fallback' });
    expect(r.ends).toHaveLength(1);
    expect(inFlight(r.pool)).toBe(0);
  });

  it('retries with a hook hanging in finally: DeadlineExceededError by 102 ms and a turn, once; nothing left', async () => {
    const slow = gate();
    const ac = new AbortController();
    r = rig([async (_s, next) => { try { return await next(); } finally { await slow.promise; } }], {}, ['a', 'b']);
    const fn = async (): Promise<never> => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error('x');
    };
    const seen = state(r.pool.run(fn, { deadline: 100, signal: ac.signal, retry: { attempts: 10 } }));
    // The clock follows the timers ms by ms (a clock ahead of them lets the queue's timer have the last word).
    for (let t = 1; t <= 101; t++) await r.advance(1);
    await turns();
    expect(seen()).toBe('pending');
    await r.advance(1);
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(r.ends.map((e) => e.error)).toEqual([error]);
    expect(r.traceEnds).toEqual([error]);
    expect(inFlight(r.pool)).toBe(0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    slow.open();
    await turns();
    expect(r.ends).toHaveLength(1);
  });

  it('coalesce: a starter whose hook hangs after next(), a joiner; both settle once, fn once, nothing left', async () => {
    const slow = gate();
    const fnGate = gate();
    let runs = 0;
    r = rig([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const fn = async (): Promise<string> => {
      runs++;
      await fnGate.promise;
      return 'v';
    };
    const a = state(r.pool.run(fn, { coalesce: 'k', deadline: 100 }));
    const b = state(r.pool.run(fn, { coalesce: 'k', deadline: 500 }));
    await turns();
    await r.advance(103);
    await turns();
    expect(errorOf(a())).toBeInstanceOf(DeadlineExceededError);
    expect(b()).not.toBe('pending');
    expect(runs).toBe(1);
    expect(inFlight(r.pool)).toBe(0);
    fnGate.open();
    slow.open();
    await r.advance(500);
    await turns();
    expect(r.ends).toHaveLength(2);
    expect(r.traceEnds).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
