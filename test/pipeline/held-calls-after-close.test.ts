import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineExceededError, PoolClosedError } from '../../src/index.js';
import { useUnhandledGuard } from '../helpers/unhandled.js';
import { gate, state, turns, errorOf, type Seen } from '../helpers/promise-state.js';
import { rig, type Rig } from '../helpers/around-rig.js';

// A call past its hooks' `next()` whose hook hangs keeps its deadline once the pool has closed, on the
// deadline queue's own timer: its time left is the timer's, so a clock that stands still while the
// timers move (a manual clock, fake timers that do not fake it) does not restart it at close().

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

let r: Rig | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
});

/** A call whose hook hangs after `next()` until `slow` opens (fn answers at once), on a fresh rig. */
async function hangingCall(deadline: number): Promise<{ slow: ReturnType<typeof gate>; seen: () => Seen }> {
  const slow = gate();
  r = rig([
    async (_s, next) => {
      const value = await next();
      await slow.promise;
      return value;
    },
  ]);
  const seen = state(r.pool.run(() => 'v', { deadline }));
  await turns();
  return { slow, seen };
}

/** Move the timers by `ms` (the clock standing still), then let the loop turn. */
async function timersOnly(ms: number): Promise<void> {
  await r!.advance(ms, 0);
  await turns();
}

describe('a held call whose hook hangs after next(), the pool closed, on a clock that stands still', () => {
  it('close() at 90 ms of a 100 ms deadline: the caller goes at 102 ms of timer time, not 102 ms after close()', async () => {
    const { slow, seen } = await hangingCall(100);
    await timersOnly(90);
    await r!.pool.close();
    await timersOnly(11);
    expect(seen()).toBe('pending');
    await timersOnly(1);
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(r!.ends).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('destroy() after close(): the call is ended then, its deadline dropped (PoolClosedError with the reason)', async () => {
    const { slow, seen } = await hangingCall(100);
    await r!.pool.close();
    await timersOnly(50);
    expect(seen()).toBe('pending');
    const reason = new Error('boom');
    await r!.pool.destroy(reason);
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('a deadline of 2^31-1 ms: the caller goes 2 ms after it, the queue\'s timer armed again past Node\'s longest', async () => {
    const M = 2 ** 31 - 1;
    const { slow, seen } = await hangingCall(M);
    await r!.pool.close();
    await timersOnly(M);
    await timersOnly(1);
    expect(seen()).toBe('pending');
    await timersOnly(1);
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('the hook answers after close(): the caller gets its answer and the queue\'s timer is stopped', async () => {
    const { slow, seen } = await hangingCall(100);
    await r!.pool.close();
    await timersOnly(50);
    slow.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
