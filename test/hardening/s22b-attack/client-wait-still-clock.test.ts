import { describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #7, fixed in session 23: the WaiterQueue takes two timers in a row that fire with the
// clock unmoved for a clock standing still, and then decides on the time the timers vouch for): on a
// clock that does not move with the timers (a manual `clock` not advanced, or fake timers that leave
// performance.now() alone), a call waiting for a CLIENT's own token (add(..., { limit })) is never let go at `maxWait`: 10 s of timers after a 5 s maxWait it
// is still pending, one timer re-armed for ever. The same wait on a POOL limit fails with RateLimitedError at
// maxWait (control), and a moving clock serves both (control).
// (Cause: ClientQueue's WaiterQueue re-read the clock at each timer and re-armed for the next token.)
// README maxWait: "ms a call may wait for a rate-limit token (pool-wide, or every client's own bucket empty);
// past it, RateLimitedError"; src/pipeline/deadlines.ts: "the timer has the last word ... so a deadline never
// waits on a clock that does not move (a manual clock that is not advanced, fake timers that do not fake the
// clock)". Suspected cause: ClientQueue's WaiterQueue keeps the wait's end as `since + maxWait` on the clock
// and its wake timer re-reads the clock (client still empty, clock still before the end): it re-arms for the
// next token instead of expiring the waiter.
// Fake timers (setTimeout, Date) moved by 100 ms steps; the pool clock is a manual one.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

async function scenario(where: 'client' | 'pool', moving: boolean, hooked: boolean): Promise<{ second: unknown; timers: number }> {
  const t = { now: 0 };
  const limit = { rate: 1, per: 1_000, burst: 1 };
  const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => t.now }, ...(where === 'pool' ? { limit } : {}) });
  if (hooked) pool.use({ name: 'pass', around: (_s, next) => next() });
  pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
  const first = state(pool.run(() => 'v1'));
  const second = state(pool.run(() => 'v2'));
  await turns(3);
  for (let i = 0; i < 100; i++) {
    if (moving) t.now += 100;
    await vi.advanceTimersByTimeAsync(100);
  }
  await turns(3);
  expect(first()).toEqual({ ok: true, value: 'v1' });
  const result = { second: second(), timers: vi.getTimerCount() };
  await pool.destroy();
  return result;
}

describe('a wait for a token on a clock that stands still', () => {
  for (const hooked of [false, true]) {
    it(`a client's own limit${hooked ? ', past a hook' : ''}: RateLimitedError by maxWait (5 s), nothing left armed`, async () => {
      const { second, timers } = await scenario('client', false, hooked);
      expect(second).not.toBe('pending');
      expect((second as { value: unknown }).value).toBeInstanceOf(RateLimitedError);
      expect(timers).toBe(0);
    });
  }

  it('control: a pool limit: RateLimitedError by maxWait', async () => {
    const { second } = await scenario('pool', false, false);
    expect((second as { value: unknown }).value).toBeInstanceOf(RateLimitedError);
  });

  it('control: a moving clock serves the client-limited call', async () => {
    const { second } = await scenario('client', true, false);
    expect(second).toEqual({ ok: true, value: 'v2' });
  });
});
