import { describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault of 17f5dab (s22c #2), gone with its revert in session 22: the WaiterQueue's timer spins at 1 ms whenever the clock is behind
// the timer's view of it. #fire re-arms with `#arm(now)`, now = max(clock, timerView); the owner's wake time is
// on the CLOCK (the bucket computes it from its own reading), so `ceil(wakeAt - now)` is <= 0, the delay is 0
// (Node: 1 ms), timerView grows by 1 ms per firing and the owner's turn runs at every firing, finding no token,
// until the clock catches up with the timer's view (or the deadline comes).
//
// Input A (a clock that steps back, e.g. `clock: { now: Date.now }` and an NTP step; the TokenBucket promises
// "what was due in 100 ms is due in 100 ms"): manual clock at 10 000, a bucket { rate 1 / 1 000 ms, burst 1 },
// one take, three queued; the clock steps back 3 s, then moves with the timers. Observed: served, but after
// ~2 700 setTimeout calls (1 ms re-arms for ~900 ms per waiter). On 456af51: 3 setTimeout calls.
// Input B (a clock that stands still, s22b #7's case): the same queue, 5 s maxWait: refused at maxWait (right)
// but after 4 000 setTimeout calls (each firing runs the bucket's #serve): a 1 kHz loop for 4 s.
// Expected: a bounded number of timer firings (a few per waiter), as on a clock that moves with the timers
// (2 calls for the same three waiters: see waiter-clocks.test.ts).
// Fake timers (setTimeout, Date) moved by 100 ms steps; setTimeout calls counted with a spy.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

async function bucketCase(kind: 'stepback' | 'still'): Promise<{ results: unknown[]; calls: number; timers: number }> {
  let manual = 10_000;
  const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 5_000, clock: { now: () => manual } });
  await bucket.take();
  const spy = vi.spyOn(globalThis, 'setTimeout');
  try {
    const results = [0, 1, 2].map(() => state(bucket.take()));
    if (kind === 'stepback') manual -= 3_000;
    for (let i = 0; i < 60; i++) {
      if (kind === 'stepback') manual += 100;
      await vi.advanceTimersByTimeAsync(100);
    }
    await turns(2);
    return { results: results.map((r) => r()), calls: spy.mock.calls.length, timers: vi.getTimerCount() };
  } finally {
    spy.mockRestore();
    bucket.close();
  }
}

async function poolCase(where: 'pool' | 'client'): Promise<{ results: unknown[]; calls: number }> {
  let manual = 10_000;
  const limit = { rate: 1, per: 1_000, burst: 1 };
  const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => manual }, ...(where === 'pool' ? { limit } : {}) });
  pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
  await pool.run(() => 'v0');
  const spy = vi.spyOn(globalThis, 'setTimeout');
  try {
    const results = [1, 2, 3].map((i) => state(pool.run(() => `v${i}`)));
    await turns(3);
    manual -= 3_000;
    for (let i = 0; i < 60; i++) {
      manual += 100;
      await vi.advanceTimersByTimeAsync(100);
    }
    await turns(3);
    return { results: results.map((r) => r()), calls: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
    await pool.destroy();
  }
}

describe('WaiterQueue timer on a clock behind the timer', () => {
  it('TokenBucket, clock steps back 3 s: three waiters served with a bounded number of timers', async () => {
    const { results, calls, timers } = await bucketCase('stepback');
    expect(results.every((r) => typeof r === 'object' && (r as { ok: boolean }).ok)).toBe(true);
    expect(timers).toBe(0);
    expect(calls).toBeLessThan(50);
  });

  // The same on a clock that stands still: a TokenBucket decides on its clock, so its waiters wait on (the
  // pool gives up a wait by a timer of its own, maxWait + 5 s: s22b-attack/client-wait-still-clock), but its
  // timer re-arms once per token interval, never spins; close() ends them with nothing left armed.
  it('TokenBucket, clock stands still: waiters wait on its clock, its one timer re-armed once per token interval (no spin)', async () => {
    const { results, calls, timers } = await bucketCase('still');
    expect(results).toEqual(['pending', 'pending', 'pending']);
    expect(timers).toBe(1);
    expect(calls).toBeLessThan(10);
  });

  for (const where of ['pool', 'client'] as const) {
    it(`${where} limit, clock steps back 3 s: three run()s served with a bounded number of timers`, async () => {
      const { results, calls } = await poolCase(where);
      expect(results).toEqual([1, 2, 3].map((i) => ({ ok: true, value: `v${i}` })));
      expect(calls).toBeLessThan(50);
    });
  }
});
