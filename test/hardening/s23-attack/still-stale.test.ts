import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { DID_NOT_ANSWER, OVERDUE_MS, ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: on a clock that does not move, a wait begun
// 7 000 ms after a first one (the same reading) lasts its own maxWait + 5 s in the pool, whatever the first
// did: no state outlives a wait. A standalone TokenBucket keeps both waiting until close().
// (a3ad865 kept its "standing still" state after the line emptied, so the next wait was refused at once.)
// Design (session 23): the limiter queues decide on the clock alone; the pool gives up every wait by a timer
// of its own at maxWait + OVERDUE_MS (5 s) after it began (client waits: the client queue's late error; a pool
// `limit`: `RateLimitedError: a limiter that did not answer within maxWait`). A TokenBucket on its own decides
// on its clock alone: on a still clock its waiters wait until aborted or closed.
// Input kept: `limit { rate: 1, per: 1_000, burst: 1 }`, maxWait 5 000, clock `{ now: () => 0 }`; a first wait
// from 0, a second call at 7 000 (slot wait: at 12 000; after an abort at 3 000: at 4 000). Note that with the
// pool's 10 000 ms the first wait is still running when the second one begins at 7 000.
// Fake timers (setTimeout, Date) from 0, 100 ms steps.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const limit = { rate: 1, per: 1_000, burst: 1 };

describe('a second still-clock wait, begun 7 000 ms after the first', () => {
  it('TokenBucket.take(): the first take still waits at 7 000 (one timer armed); both wait until close()', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => 0 } });
    await bucket.take();
    const first = ending(bucket.take());
    await run(7_000, 100);
    expect(first.ok).toBeUndefined();
    expect(vi.getTimerCount()).toBe(1);
    const second = ending(bucket.take());
    await run(10_000, 100);
    expect({ first: first.ok, second: second.ok, timers: vi.getTimerCount() }).toEqual({ first: undefined, second: undefined, timers: 1 });
    bucket.close();
    await run(100, 100);
    expect({ first: first.at, second: second.at }).toEqual({ first: 17_000, second: 17_000 });
    expect(first.value).toBeInstanceOf(PoolClosedError);
    expect(second.value).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  for (const where of ['pool', 'client'] as const) {
    it(`${where} limit: the second waiting run() lasts its maxWait + 5 s (ends at 17 000), the first at 10 000`, async () => {
      const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 }, ...(where === 'pool' ? { limit } : {}) });
      pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
      await pool.run(() => 'v1');
      const first = ending(pool.run(() => 'v2'));
      await run(7_000, 100);
      const second = ending(pool.run(() => 'v3'));
      await run(10_000, 100);
      const timers = vi.getTimerCount();
      await pool.destroy();
      expect({ first: first.at, second: second.at }).toEqual({ first: 5_000 + OVERDUE_MS, second: 7_000 + 5_000 + OVERDUE_MS });
      for (const e of [first, second]) {
        expect(e.value).toBeInstanceOf(RateLimitedError);
        expect((e.value as Error).message).toContain(where === 'pool' ? DID_NOT_ANSWER : 'every client');
      }
      expect(timers).toBe(0);
    });
  }

  it('slot wait: a second call queued at 12 000, after the first was given up at 10 000, lasts its maxWait + 5 s', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const busy = pool.run(() => new Promise<string>(() => undefined));
    busy.catch(() => undefined);
    const first = ending(pool.run(() => 'v2'));
    await run(12_000, 100);
    const second = ending(pool.run(() => 'v3'));
    await run(20_000, 100);
    await pool.destroy();
    expect({ first: first.at, second: second.at }).toEqual({ first: 5_000 + OVERDUE_MS, second: 12_000 + 5_000 + OVERDUE_MS });
    expect(first.value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(second.value).toBeInstanceOf(ConcurrencyLimitedError);
  });

  it('client limit: the line emptied by an ABORT at 3 000; a call queued at 4 000 lasts its maxWait + 5 s (14 000)', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', limit });
    await pool.run(() => 'v1');
    const ac = new AbortController();
    const first = ending(pool.run(() => 'v2', { signal: ac.signal }));
    await run(3_000, 100);
    ac.abort();
    await run(1_000, 100);
    const second = ending(pool.run(() => 'v3'));
    await run(10_000, 100);
    await pool.destroy();
    expect(first.at).toBe(3_000);
    expect(second.value).toBeInstanceOf(RateLimitedError);
    expect(second.at).toBe(4_000 + 5_000 + OVERDUE_MS);
  });

  it('TokenBucket, the clock moved 1 ms at 7 000: still short of any deadline on the clock (5 000, 5 001), both wait until close()', async () => {
    let t = 0;
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => t } });
    await bucket.take();
    const first = ending(bucket.take());
    await run(7_000, 100);
    t = 1;
    const second = ending(bucket.take());
    await run(10_000, 100);
    expect({ first: first.ok, second: second.ok }).toEqual({ first: undefined, second: undefined });
    bucket.close();
    await run(100, 100);
    expect({ first: first.at, second: second.at }).toEqual({ first: 17_000, second: 17_000 });
    expect(second.value).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('control: on a clock moving with the timers the first take is served by its token at 1 000; the one at 7 000 at once', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => Date.now() } });
    await bucket.take();
    const first = ending(bucket.take());
    await run(7_000, 100);
    expect(vi.getTimerCount()).toBe(0);
    const second = ending(bucket.take());
    await run(100, 100);
    bucket.close();
    expect({ first: first.at, firstOk: first.ok, second: second.at, secondOk: second.ok }).toEqual({ first: 1_000, firstOk: true, second: 7_000, secondOk: true });
  });
});
