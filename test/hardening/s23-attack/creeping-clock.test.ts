import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { DID_NOT_ANSWER, OVERDUE_MS, ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: on fake timers with a clock that creeps (moves by
// microseconds per reading, never near a deadline), every pool wait ends at maxWait + 5 s by the pool's own
// timer - a client's own limit with RateLimitedError 'every client', a slot wait with ConcurrencyLimitedError,
// the pool `limit` with `RateLimitedError: a limiter that did not answer within maxWait` (retryAfterMs 0, the
// bucket dropping its waiter: nothing left armed) - and a standalone TokenBucket waits (one timer, re-armed
// once per token interval) until close().
// (a3ad865's "clock standing still" rule wanted the reading exactly unchanged, so these waits never ended
// but by the pool `limit`'s backstop; that backstop is now the design for every pool wait.)
// Design (session 23): the limiter queues decide on the clock alone; the pool gives up each wait by its own
// timer at maxWait + OVERDUE_MS (5 s); a TokenBucket on its own has no such timer.
// Input kept: `vi.useFakeTimers({ toFake: [setTimeout, ..., Date] })` with the default clock (the real
// performance.now(), which keeps real time) and, deterministically, a clock `+0.001` ms per reading; maxWait
// 5 000; `{ rate: 1, per: 1_000, burst: 1 }`; 20 s of timers in 100 ms steps.
// The real performance.now() moves with wall time: only while the test has taken less real time than the
// token's 1 000 ms is its outcome exact (it always is on a quiet machine); past that, the clock may have
// reached the token, and serving it is right too. No assertion depends on how fast the machine is.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

type ClockKind = 'creeping' | 'performance.now';
const kinds: ClockKind[] = ['creeping', 'performance.now'];

function clockOf(kind: ClockKind): { clock?: { now: () => number } } {
  if (kind === 'performance.now') return {};
  let t = 0;
  return { clock: { now: () => (t += 0.001) } };
}

/** Whether the clock may have reached a token 1 000 ms away: only the real one, and only on a slow run. */
function tokenMayBeDue(kind: ClockKind, startedAt: number): boolean {
  return kind === 'performance.now' && performance.now() - startedAt >= 1_000;
}

const limit = { rate: 1, per: 1_000, burst: 1 };

describe('a wait on a clock that creeps (moves by microseconds while the fake timers run)', () => {
  for (const kind of kinds) {
    it(`${kind}: client's own limit, maxWait 5 000: RateLimitedError at 10 000 (maxWait + 5 s), nothing left armed`, async () => {
      const startedAt = performance.now();
      const pool = new ClientPool<string>({ maxWait: 5_000, ...clockOf(kind) });
      pool.add('a', { name: 'a', limit });
      await pool.run(() => 'v1');
      const waiting = ending(pool.run(() => 'v2'));
      await run(20_000, 100);
      const seen = { ...waiting, timers: vi.getTimerCount() };
      const slow = tokenMayBeDue(kind, startedAt);
      await pool.destroy();
      await turns(2);
      expect(seen.timers).toBe(0);
      if (slow) {
        // The real clock reached the token (served) or, slower still, the deadline (refused on the clock).
        expect(seen.value === 'v2' || seen.value instanceof RateLimitedError).toBe(true);
      } else {
        expect(seen.value).toBeInstanceOf(RateLimitedError);
        expect((seen.value as Error).message).toContain('every client');
        expect(seen.at).toBe(5_000 + OVERDUE_MS);
      }
    });

    it(`${kind}: slot wait (maxInFlight 1, busy), maxWait 5 000: ConcurrencyLimitedError at 10 000, nothing left armed`, async () => {
      const startedAt = performance.now();
      const pool = new ClientPool<string>({ maxWait: 5_000, ...clockOf(kind) });
      pool.add('a', { name: 'a', maxInFlight: 1 });
      const busy = pool.run(() => new Promise<string>(() => undefined));
      busy.catch(() => undefined);
      const waiting = ending(pool.run(() => 'v2'));
      await run(20_000, 100);
      const seen = { ...waiting, timers: vi.getTimerCount() };
      await pool.destroy();
      await turns(2);
      expect(seen.value).toBeInstanceOf(ConcurrencyLimitedError);
      // Unless the real clock ran past the wait's deadline (5 000 ms of wall time: it never does on these runs).
      if (kind === 'creeping' || performance.now() - startedAt < 5_000) expect(seen.at).toBe(5_000 + OVERDUE_MS);
      expect(seen.timers).toBe(0);
    });

    it(`${kind}: TokenBucket.take(), maxWait 5 000: waits until close() (no backstop on a bucket of its own), one timer, no spin`, async () => {
      const startedAt = performance.now();
      const bucket = new TokenBucket({ ...limit, maxWait: 5_000, ...clockOf(kind) });
      await bucket.take();
      const spy = vi.spyOn(globalThis, 'setTimeout');
      const waiting = ending(bucket.take());
      await run(20_000, 100);
      const seen = { ...waiting, timers: vi.getTimerCount(), setTimeouts: spy.mock.calls.length };
      spy.mockRestore();
      const slow = tokenMayBeDue(kind, startedAt);
      bucket.close();
      await turns(2);
      // A re-arm per 1 000 ms token interval at most (20 s of timers), never a spin.
      expect(seen.setTimeouts).toBeLessThanOrEqual(25);
      if (slow && seen.ok !== undefined) {
        // The real clock reached the token (served) or, slower still, the deadline (refused): both on the clock.
        if (seen.ok) expect(seen.value).toBeUndefined();
        else expect(seen.value).toBeInstanceOf(RateLimitedError);
      } else {
        expect(seen.ok).toBeUndefined();
        expect(seen.timers).toBe(1);
        expect(waiting.value).toBeInstanceOf(PoolClosedError);
        expect(waiting.at).toBe(20_000);
      }
      expect(vi.getTimerCount()).toBe(0);
    });

    it(`${kind}: pool limit, maxWait 5 000: given up at 10 000 by the pool ('did not answer', retryAfterMs 0), the bucket's waiter dropped`, async () => {
      const startedAt = performance.now();
      const pool = new ClientPool<string>({ maxWait: 5_000, limit, ...clockOf(kind) });
      pool.add('a', { name: 'a' });
      await pool.run(() => 'v1');
      const waiting = ending(pool.run(() => 'v2'));
      await run(20_000, 100);
      const seen = { ...waiting, timers: vi.getTimerCount() };
      const slow = tokenMayBeDue(kind, startedAt);
      await pool.destroy();
      expect(seen.timers).toBe(0);
      if (slow) {
        expect(seen.value === 'v2' || seen.value instanceof RateLimitedError).toBe(true);
      } else {
        expect(seen.value).toBeInstanceOf(RateLimitedError);
        expect((seen.value as Error).message).toContain(DID_NOT_ANSWER);
        expect((seen.value as RateLimitedError).retryAfterMs).toBe(0);
        expect(seen.at).toBe(5_000 + OVERDUE_MS);
      }
    });
  }

  it('control: with performance.now faked too, the client-limit wait is served by its token at 1 000', async () => {
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    vi.setSystemTime(0);
    const pool = new ClientPool<string>({ maxWait: 5_000 });
    pool.add('a', { name: 'a', limit });
    await pool.run(() => 'v1');
    const waiting = ending(pool.run(() => 'v2'));
    await run(3_000, 100);
    await pool.destroy();
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    expect({ at: waiting.at, value: waiting.value }).toEqual({ at: 1_000, value: 'v2' });
  });
});
