import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineExceededError, PoolClosedError } from '../../src/index.js';
import { useUnhandledGuard } from '../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../helpers/promise-state.js';
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

/** A hook that hangs after `next()` until `slow` opens. */
function hangingAfterNext(slow: ReturnType<typeof gate>): Rig {
  return rig([
    async (_s, next) => {
      const value = await next();
      await slow.promise;
      return value;
    },
  ]);
}

describe('a held call whose hook hangs after next(), the pool closed, on a clock that stands still', () => {
  it('close() at 90 ms of a 100 ms deadline: the caller goes at 102 ms of timer time, not 102 ms after close()', async () => {
    const slow = gate();
    r = hangingAfterNext(slow);
    const seen = state(r.pool.run(() => 'v', { deadline: 100 }));
    await turns();
    await r.advance(90, 0);
    await r.pool.close();
    await r.advance(11, 0);
    await turns();
    expect(seen()).toBe('pending');
    await r.advance(1, 0);
    await turns();
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(r.ends).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('destroy() after close(): the call is ended then, its deadline dropped (PoolClosedError with the reason)', async () => {
    const slow = gate();
    r = hangingAfterNext(slow);
    const seen = state(r.pool.run(() => 'v', { deadline: 100 }));
    await turns();
    await r.pool.close();
    await r.advance(50, 0);
    expect(seen()).toBe('pending');
    const reason = new Error('boom');
    await r.pool.destroy(reason);
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('a deadline of 2^31-1 ms: the caller goes 2 ms after it, the queue\'s timer armed again past Node\'s longest', async () => {
    const M = 2 ** 31 - 1;
    const slow = gate();
    r = hangingAfterNext(slow);
    const seen = state(r.pool.run(() => 'v', { deadline: M }));
    await turns();
    await r.pool.close();
    await r.advance(M, 0);
    await r.advance(1, 0);
    await turns();
    expect(seen()).toBe('pending');
    await r.advance(1, 0);
    await turns();
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(vi.getTimerCount()).toBe(0);
    slow.open();
  });

  it('the hook answers after close(): the caller gets its answer and the queue\'s timer is stopped', async () => {
    const slow = gate();
    r = hangingAfterNext(slow);
    const seen = state(r.pool.run(() => 'v', { deadline: 100 }));
    await turns();
    await r.pool.close();
    await r.advance(50, 0);
    slow.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
