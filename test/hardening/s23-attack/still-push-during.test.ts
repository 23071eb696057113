import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { DID_NOT_ANSWER, OVERDUE_MS, ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: a waiter that joins a line on a clock that does
// not move, 3 000 ms after the first, is given up 3 000 ms after the first (each wait by its own timer, at its
// own start + maxWait + 5 s), never earlier; a standalone TokenBucket keeps both waiting until close().
// (a3ad865 refused the late waiter at 5 000, 2 000 ms into its wait: its "clock standing still" rule compared
// a clock deadline with the timers' time since before the waiter came.)
// Design (session 23): every limiter queue decides on the clock alone; the POOL gives up a wait by a timer of
// its own at maxWait + OVERDUE_MS (5 s) after it began: a wait for a client with the client queue's late error
// (RateLimitedError 'every client', ConcurrencyLimitedError), a wait for a pool `limit` token with
// `RateLimitedError: a limiter that did not answer within maxWait` (retryAfterMs 0), the bucket dropping it.
// A TokenBucket used on its own has no such timer: on a clock that never moves its waiters wait until
// aborted or closed, its one timer re-armed once per token interval.
// Input kept: clock `{ now: () => 0 }`, `limit { rate: 1, per: 1_000, burst: 1 }`, maxWait 5 000, one call
// takes the token, a second waits from 0, a third from 3 000. Fake timers (setTimeout, Date) from 0, 100 ms steps.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const still = { now: (): number => 0 };
const limit = { rate: 1, per: 1_000, burst: 1 };

describe('a waiter pushed at 3 000 ms into a still-clock wait (maxWait 5 000)', () => {
  it('TokenBucket.take(): both takes wait (the clock never reaches a deadline) until close(); one timer, re-armed once per token interval', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: still });
    await bucket.take();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const first = ending(bucket.take());
    await run(3_000, 100);
    const late = ending(bucket.take());
    await run(12_000, 100);
    const seen = { first: first.ok, late: late.ok, timers: vi.getTimerCount(), setTimeouts: spy.mock.calls.length };
    spy.mockRestore();
    bucket.close();
    await run(100, 100);
    expect(seen.first).toBeUndefined();
    expect(seen.late).toBeUndefined();
    expect(seen.timers).toBe(1);
    // 15 000 ms of timers at one token per 1 000 ms: 15 re-arms and the first arming (17 seen), not a spin.
    expect(seen.setTimeouts).toBeLessThanOrEqual(20);
    expect({ first: first.at, late: late.at }).toEqual({ first: 15_000, late: 15_000 });
    expect(first.value).toBeInstanceOf(PoolClosedError);
    expect(late.value).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  for (const where of ['pool', 'client'] as const) {
    it(`${where} limit: the late run() is given up at its own start + maxWait + 5 s (13 000), the first at 10 000; nothing left armed`, async () => {
      const pool = new ClientPool<string>({ maxWait: 5_000, clock: still, ...(where === 'pool' ? { limit } : {}) });
      pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
      const served = ending(pool.run(() => 'v1'));
      const first = ending(pool.run(() => 'v2'));
      await run(3_000, 100);
      const late = ending(pool.run(() => 'v3'));
      await run(12_000, 100);
      const timers = vi.getTimerCount();
      await pool.destroy();
      expect(served.value).toBe('v1');
      expect({ first: first.at, late: late.at }).toEqual({ first: 5_000 + OVERDUE_MS, late: 3_000 + 5_000 + OVERDUE_MS });
      for (const e of [first, late]) {
        expect(e.value).toBeInstanceOf(RateLimitedError);
        if (where === 'pool') {
          expect((e.value as Error).message).toContain(DID_NOT_ANSWER);
          expect((e.value as RateLimitedError).retryAfterMs).toBe(0);
        } else {
          expect((e.value as Error).message).toContain('every client');
          // The client's token is 1 000 ms away on the clock.
          expect((e.value as RateLimitedError).retryAfterMs).toBe(1_000);
        }
      }
      expect(timers).toBe(0);
    });
  }

  it('slot wait (maxInFlight 1, busy): ConcurrencyLimitedError at 10 000 and, for the call queued at 3 000, at 13 000', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: still });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const busy = pool.run(() => new Promise<string>(() => undefined));
    busy.catch(() => undefined);
    const first = ending(pool.run(() => 'v2'));
    await run(3_000, 100);
    const late = ending(pool.run(() => 'v3'));
    await run(20_000, 100);
    await pool.destroy();
    expect({ first: first.at, late: late.at }).toEqual({ first: 5_000 + OVERDUE_MS, late: 3_000 + 5_000 + OVERDUE_MS });
    expect(first.value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(late.value).toBeInstanceOf(ConcurrencyLimitedError);
  });

  it('control: on a clock moving with the timers the late take waits its own maxWait (served by its token at 2 000)', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => Date.now() } });
    await bucket.take();
    const first = ending(bucket.take());
    await run(500, 100);
    const late = ending(bucket.take());
    await run(5_000, 100);
    bucket.close();
    expect({ first: first.at, late: late.at, ok: late.ok }).toEqual({ first: 1_000, late: 2_000, ok: true });
  });
});
