import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineExceededError, PoolClosedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { state, turns } from '../../helpers/promise-state.js';
import { rig, type Rig } from '../../helpers/around-rig.js';

// Probe (passes): DeadlineQueue.clear(keep) and the clamp of delays past 2^31-1 (3305fbe) with several kept
// INSIDE calls (hooks hanging after fn answered) on a manual clock that stands still while fake timers move:
// each is let go exactly 2 ms after its own deadline, the short one first, the 2^31-1 ms one at 2^31+1 ms
// (two clamped arms), none early; the timer is gone once the last is; a destroy() after close() ends a kept
// call at once and leaves no timer; a clock that moves with the timers gives the same answer.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

const M = 2 ** 31 - 1;
let r: Rig | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
});

const hangAfter = async (_s: unknown, next: () => Promise<unknown>): Promise<unknown> => {
  const v = await next();
  await new Promise(() => undefined);
  return v;
};

const kind = (s: unknown): string => (s === 'pending' ? 'pending' : (s as { ok: boolean; value: unknown }).ok ? 'ok' : (s as { value: Error }).value.constructor.name);

describe('long deadlines kept after close()', () => {
  it('three kept calls (100, 2^31-6, 2^31-1 ms), still clock: each let go 2 ms after its deadline', async () => {
    r = rig([hangAfter]);
    const long = state(r.pool.run(() => 'v', { deadline: M }));
    const short = state(r.pool.run(() => 'v', { deadline: 100 }));
    const mid = state(r.pool.run(() => 'v', { deadline: M - 5 }));
    await turns();
    await r.pool.close();
    const at: [number, string, string, string][] = [];
    let t = 0;
    for (const to of [101, 102, M - 4, M - 3, M + 1, M + 2]) {
      await r.advance(to - t, 0);
      t = to;
      await turns();
      at.push([to, kind(short()), kind(mid()), kind(long())]);
    }
    expect(at).toEqual([
      [101, 'pending', 'pending', 'pending'],
      [102, 'DeadlineExceededError', 'pending', 'pending'],
      [M - 4, 'DeadlineExceededError', 'pending', 'pending'],
      [M - 3, 'DeadlineExceededError', 'DeadlineExceededError', 'pending'],
      [M + 1, 'DeadlineExceededError', 'DeadlineExceededError', 'pending'],
      [M + 2, 'DeadlineExceededError', 'DeadlineExceededError', 'DeadlineExceededError'],
    ]);
    expect(vi.getTimerCount()).toBe(0);
    expect(r.ends).toHaveLength(3);
  });

  it('a kept 2^31-1 ms call, then destroy(): PoolClosedError at once, no timer left', async () => {
    r = rig([hangAfter]);
    const long = state(r.pool.run(() => 'v', { deadline: M }));
    await turns();
    await r.pool.close();
    expect(vi.getTimerCount()).toBe(1);
    await r.pool.destroy('x');
    await turns();
    expect(long()).toMatchObject({ ok: false, value: { cause: 'x' } });
    expect((long() as { value: unknown }).value).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a clock that moves with the timers, the call started at 1 000 ms: let go at 1 000 + 2^31-1 + 2', async () => {
    r = rig([hangAfter]);
    await r.advance(1_000);
    const long = state(r.pool.run(() => 'v', { deadline: M }));
    await turns();
    await r.pool.close();
    await r.advance(M);
    await turns();
    expect(long()).toBe('pending');
    await r.advance(1);
    await turns();
    expect(long()).toBe('pending');
    await r.advance(1);
    await turns();
    expect((long() as { value: unknown }).value).toBeInstanceOf(DeadlineExceededError);
    expect(vi.getTimerCount()).toBe(0);
  });
});
