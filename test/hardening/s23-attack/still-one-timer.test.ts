import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { OVERDUE_MS, ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: a pool wait on a clock that does not move (or that
// stops before the wait's deadline) is given up at maxWait + 5 s by the pool's own timer, exactly, with the
// client queue's late error; a standalone TokenBucket whose token is due at its waiter's deadline keeps it
// waiting (its one timer re-armed once per token interval) until close().
// (a3ad865 promised "a wait ends at its maxWait though the clock never moves" and ended these at twice their
// maxWait: its rule needed two timers with the clock unmoved.)
// Design (session 23): the limiter queues decide on the clock alone, so a timer firing with the clock short of
// a deadline proves nothing (Node's timers fire up to ~1 ms ahead of performance.now()); the pool's backstop
// timer ends its waits at maxWait + OVERDUE_MS (5 s) after they began. A TokenBucket on its own has no backstop.
// Input kept: clock `{ now: () => 0 }` (one case: a clock 100 ms ahead of the timers that stops at 2 000);
// slot wait (maxInFlight 1, busy) maxWait 5 000; `{ rate: 1, per: 1_000, burst: 1 }` with maxWait 1 000.
// Fake timers (setTimeout, Date) from 0, 100 ms steps.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

describe('a still-clock wait with one timer', () => {
  it('slot wait, maxWait 5 000: ConcurrencyLimitedError at 10 000 (maxWait + 5 s), nothing left armed', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const busy = pool.run(() => new Promise<string>(() => undefined));
    busy.catch(() => undefined);
    const waiting = ending(pool.run(() => 'v2'));
    await run(12_000, 100);
    const timers = vi.getTimerCount();
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(waiting.at).toBe(5_000 + OVERDUE_MS);
    expect(timers).toBe(0);
  });

  it('TokenBucket, maxWait 1 000, token due at the deadline: waits (the clock never gets there) until close(); no spin', async () => {
    const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 1_000, clock: { now: () => 0 } });
    await bucket.take();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const waiting = ending(bucket.take());
    await run(4_000, 100);
    const seen = { ok: waiting.ok, timers: vi.getTimerCount(), setTimeouts: spy.mock.calls.length };
    spy.mockRestore();
    bucket.close();
    await run(100, 100);
    expect(seen.ok).toBeUndefined();
    expect(seen.timers).toBe(1);
    // One arming and a re-arm per 1 000 ms token interval.
    expect(seen.setTimeouts).toBeLessThanOrEqual(6);
    expect(waiting.value).toBeInstanceOf(PoolClosedError);
    expect(waiting.at).toBe(4_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("client's own limit, maxWait 1 000, token due at the deadline: RateLimitedError at 6 000 (maxWait + 5 s)", async () => {
    const pool = new ClientPool<string>({ maxWait: 1_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 1_000, burst: 1 } });
    await pool.run(() => 'v1');
    const waiting = ending(pool.run(() => 'v2'));
    await run(7_000, 100);
    const timers = vi.getTimerCount();
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(RateLimitedError);
    expect((waiting.value as Error).message).toContain('every client');
    expect(waiting.at).toBe(1_000 + OVERDUE_MS);
    expect(timers).toBe(0);
  });

  it('slot wait, clock moves (100 ms ahead of the timers) to 2 000 then stands still: ConcurrencyLimitedError at 10 000', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => t } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const busy = pool.run(() => new Promise<string>(() => undefined));
    busy.catch(() => undefined);
    const waiting = ending(pool.run(() => 'v2'));
    await run(15_000, 100, () => {
      if (t < 2_000) t += 100;
    });
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(waiting.at).toBe(5_000 + OVERDUE_MS);
  });

  it('control: the same slot wait on a clock moving with the timers ends at 5 000', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => Date.now() } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const busy = pool.run(() => new Promise<string>(() => undefined));
    busy.catch(() => undefined);
    const waiting = ending(pool.run(() => 'v2'));
    await run(12_000, 100);
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(waiting.at).toBe(5_000);
  });
});
