import { describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault of 17f5dab (s22c #1), gone with its revert in session 22: a waiter whose token is due at its very deadline is REFUSED when the
// WaiterQueue's timer fires a fraction of a millisecond before the clock says its delay has passed.
//
// Node's timers run on libuv's loop time (whole ms, read at the start of a loop turn); the default clock is
// performance.now() (fractional). Measured on this machine (node, 400 timers of 3 ms armed at random
// fractions of a ms): 7 fired early against performance.now(), the earliest by 0.906 ms. So a timer armed at
// clock 0.9 for 1000 ms may fire when the clock reads 1000.0.
//
// 17f5dab's #fire takes `now = max(clock, timerView)` with timerView = (clock at arm) + delay = 1000.9 ("A clock
// that moves is never behind it" - it is, by up to a ms). The owner's turn reads its own clock (1000.0), has no
// token yet (0.9 ms short), and the deadline loop then refuses the waiter whose deadline is 1000.9 <= timerView.
// Before 17f5dab: now = 1000.0, nothing due, re-armed for 1 ms, and the waiter was served at 1001 (its token due
// at its deadline: "a waiter due at its very deadline is served, not refused", waiter-queue.ts #fire).
//
// Model, under fake timers (setTimeout faked): a manual clock that reads 0.9 when the calls arm the timer (the
// loop time is 0) and then moves exactly with the timers (clock = fake time), as performance.now does with
// libuv when a loop turn starts on a whole ms.
// Config: `limit: { rate: 1, per: 1_000, burst: 1 }, maxWait: 1_000` ("one queued call waits at most one interval").

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

function lateClock(): { clock: { now: () => number }; step: (ms: number) => Promise<void>; set: (v: number) => void } {
  let offset = 0.9;
  const start = Date.now();
  return {
    clock: { now: () => Date.now() - start + offset },
    set: (v) => (offset = v),
    step: async (ms) => {
      offset = 0; // from the next loop turn on, the clock reads the loop's whole ms
      await vi.advanceTimersByTimeAsync(ms);
    },
  };
}

describe('a token due at the deadline, timer firing a fraction of a ms early (as Node timers do vs performance.now)', () => {
  it('TokenBucket.take(): the second take is served at its deadline, not refused', async () => {
    const c = lateClock();
    const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 1_000, clock: c.clock });
    await bucket.take();
    const second = state(bucket.take());
    for (let i = 0; i < 12; i++) await c.step(100);
    await turns(2);
    expect(second()).toEqual({ ok: true, value: undefined });
    bucket.close();
  });

  it('pool limit: the second run() is served, not RateLimitedError', async () => {
    const c = lateClock();
    const pool = new ClientPool<string>({ limit: { rate: 1, per: 1_000, burst: 1 }, maxWait: 1_000, clock: c.clock });
    pool.add('a', { name: 'a' });
    const first = state(pool.run(() => 'v1'));
    const second = state(pool.run(() => 'v2'));
    await turns(3);
    for (let i = 0; i < 12; i++) await c.step(100);
    await turns(3);
    expect(first()).toEqual({ ok: true, value: 'v1' });
    const seen = second();
    expect(seen === 'pending' || seen.ok ? seen : String(seen.value)).toEqual({ ok: true, value: 'v2' });
    await pool.destroy();
  });

  it("client's own limit: the second run() is served, not RateLimitedError", async () => {
    const c = lateClock();
    const pool = new ClientPool<string>({ maxWait: 1_000, clock: c.clock });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 1_000, burst: 1 } });
    const first = state(pool.run(() => 'v1'));
    const second = state(pool.run(() => 'v2'));
    await turns(3);
    for (let i = 0; i < 12; i++) await c.step(100);
    await turns(3);
    expect(first()).toEqual({ ok: true, value: 'v1' });
    const seen = second();
    expect(seen === 'pending' || seen.ok ? seen : String(seen.value)).toEqual({ ok: true, value: 'v2' });
    await pool.destroy();
  });

  it('control: a clock exactly in step with the timers serves the second take', async () => {
    const c = lateClock();
    c.set(0);
    const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 1_000, clock: c.clock });
    await bucket.take();
    const second = state(bucket.take());
    for (let i = 0; i < 12; i++) await c.step(100);
    await turns(2);
    expect(second()).toEqual({ ok: true, value: undefined });
    bucket.close();
  });

  it('control: maxWait 999 (token 1 ms past it) is refused at once with RateLimitedError', async () => {
    const c = lateClock();
    const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 999, clock: c.clock });
    await bucket.take();
    await expect(bucket.take()).rejects.toBeInstanceOf(RateLimitedError);
    bucket.close();
  });
});
