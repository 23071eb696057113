import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { gate } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { OVERDUE_MS, ending, run } from './rig.js';

// Probes of a clock standing still at 0 (`{ now: () => 0 }`) under fake timers (setTimeout, Date; from 0, 100 ms
// steps), 3 000 ms into a 5 000 ms wait: aborts, close(), destroy(), a slot freed (`onReady`), priorities, and
// many waiters (timers counted: no spin, none left). Written against a3ad865's "clock standing still" mode (two
// timers fired with the clock unmoved, then the timers' time decided); that mode is reverted (session 23).
// Now pins the design of session 23: the queues decide on the clock alone; the pool gives up each wait by a
// timer of its own at maxWait + 5 s after it began (a client wait: the client queue's late error, here
// RateLimitedError 'every client'), one timer per waiter; a TokenBucket on its own has none, so on this clock
// its waiters wait (its one timer re-armed once per token interval) until aborted or closed.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const limit = { rate: 1, per: 1_000, burst: 1 };

function clientLimited(): ClientPool<string> {
  const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
  pool.add('a', { name: 'a', limit });
  return pool;
}

describe('still clock, 3 000 ms into a 5 000 ms wait', () => {
  it('an abort ends the wait at once with AbortedError (the reason as cause); no timer left', async () => {
    const pool = clientLimited();
    await pool.run(() => 'v1');
    const ac = new AbortController();
    const waiting = ending(pool.run(() => 'v2', { signal: ac.signal }));
    await run(3_000, 100);
    ac.abort(new Error('user'));
    await run(100, 100);
    expect(waiting.value).toBeInstanceOf(AbortedError);
    expect((waiting.value as Error).cause).toEqual(new Error('user'));
    expect(waiting.at).toBe(3_000);
    expect(vi.getTimerCount()).toBe(0);
    await pool.destroy();
  });

  it('aborting the head leaves the one behind it waiting to its own maxWait + 5 s (10 000); nothing left armed', async () => {
    const pool = clientLimited();
    await pool.run(() => 'v1');
    const ac = new AbortController();
    const head = ending(pool.run(() => 'v2', { signal: ac.signal }));
    const behind = ending(pool.run(() => 'v3'));
    await run(3_000, 100);
    ac.abort();
    await run(4_000, 100);
    expect(behind.ok).toBeUndefined();
    await run(4_000, 100);
    expect(head.value).toBeInstanceOf(AbortedError);
    expect(head.at).toBe(3_000);
    expect(behind.value).toBeInstanceOf(RateLimitedError);
    expect((behind.value as Error).message).toContain('every client');
    expect(behind.at).toBe(5_000 + OVERDUE_MS);
    expect(vi.getTimerCount()).toBe(0);
    await pool.destroy();
  });

  for (const how of ['close', 'destroy'] as const) {
    it(`${how}() ends the waiting call at once with PoolClosedError; no timer left`, async () => {
      const pool = clientLimited();
      await pool.run(() => 'v1');
      const waiting = ending(pool.run(() => 'v2'));
      await run(3_000, 100);
      if (how === 'close') await pool.close();
      else await pool.destroy();
      await run(100, 100);
      expect(waiting.value).toBeInstanceOf(PoolClosedError);
      expect(waiting.at).toBe(3_000);
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  it('TokenBucket.close() ends the waiting take at once with PoolClosedError; no timer left', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => 0 } });
    await bucket.take();
    const waiting = ending(bucket.take());
    await run(3_000, 100);
    bucket.close();
    await run(100, 100);
    expect(waiting.value).toBeInstanceOf(PoolClosedError);
    expect(waiting.at).toBe(3_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a slot freed at 3 000 (onReady: a call on a capped client ends) serves the waiting call at once', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', limit });
    pool.add('b', { name: 'b', maxInFlight: 1 });
    const g = gate();
    // One call takes a's token, one holds b's slot.
    const held = [ending(pool.run(() => g.promise.then(() => 'held'))), ending(pool.run(() => g.promise.then(() => 'held')))];
    await run(100, 100);
    const waiting = ending(pool.run((client) => client));
    await run(2_900, 100);
    expect(waiting.at).toBeUndefined();
    g.open();
    await run(200, 100);
    expect(held.map((h) => h.value)).toEqual(['held', 'held']);
    expect({ at: waiting.at, value: waiting.value }).toEqual({ at: 3_000, value: 'b' });
    expect(vi.getTimerCount()).toBe(0);
    await pool.destroy();
  });

  it("priorities: a 'high' call queued at 2 500 behind a normal one is served first when the slot frees at 3 000", async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', limit });
    pool.add('b', { name: 'b', maxInFlight: 1 });
    const g = gate();
    const held = [ending(pool.run(() => g.promise.then(() => 'held'))), ending(pool.run(() => g.promise.then(() => 'held')))];
    await run(100, 100);
    const normal = ending(pool.run(() => 'normal'));
    await run(2_400, 100);
    const high = ending(pool.run(() => 'high', { priority: 'high' }));
    await run(500, 100);
    g.open();
    await run(3_000, 100);
    expect(held.map((h) => h.ok)).toEqual([true, true]);
    expect({ at: high.at, value: high.value }).toEqual({ at: 3_000, value: 'high' });
    // The normal call was second in line; 'b' is free again after 'high' ends: served too.
    expect(normal.ok).toBe(true);
    await pool.destroy();
  });

  it("50 calls waiting for a client token: all refused at 10 000 (maxWait + 5 s), a timer each and the queue's re-arms, none left", async () => {
    const pool = clientLimited();
    await pool.run(() => 'v1');
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const waiting = Array.from({ length: 50 }, (_, i) => ending(pool.run(() => `w${i}`)));
    await run(11_000, 100);
    const calls = spy.mock.calls.length;
    spy.mockRestore();
    expect(new Set(waiting.map((w) => w.at))).toEqual(new Set([5_000 + OVERDUE_MS]));
    expect(waiting.every((w) => w.value instanceof RateLimitedError)).toBe(true);
    // The run() loop's own steps make no setTimeout. The pool's backstop is one timer per waiter (50, by
    // design: WaiterQueue.push's `overdueMs`), and the queue's one timer re-arms once per 1 000 ms (the
    // client's token interval, which the clock never reaches) until the line empties: 61 seen, not a spin.
    expect(calls).toBeLessThanOrEqual(50 + 15);
    expect(vi.getTimerCount()).toBe(0);
    await pool.destroy();
  });

  it('TokenBucket: 50 takes waiting: none served or refused before close(), one timer re-armed once per token interval, none left', async () => {
    const bucket = new TokenBucket({ rate: 10, per: 1_000, burst: 1, maxWait: 5_000, clock: { now: () => 0 } });
    await bucket.take();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const waiting = Array.from({ length: 50 }, () => ending(bucket.take()));
    await run(8_000, 100);
    const calls = spy.mock.calls.length;
    const timers = vi.getTimerCount();
    spy.mockRestore();
    expect(waiting.every((w) => w.ok === undefined)).toBe(true);
    bucket.close();
    await run(100, 100);
    expect(waiting.every((w) => w.value instanceof PoolClosedError && w.at === 8_000)).toBe(true);
    // One timer for the line, re-armed every 100 ms (the token interval, which the clock never reaches):
    // 8 000 / 100 = 80 re-arms in 8 s (82 seen), none per waiter, not a spin.
    expect(timers).toBe(1);
    expect(calls).toBeLessThanOrEqual(8_000 / 100 + 5);
    expect(vi.getTimerCount()).toBe(0);
  });
});
