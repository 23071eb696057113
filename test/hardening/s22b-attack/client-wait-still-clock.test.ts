import { describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #7, fixed in session 23): on a clock that does not move with the timers (a manual
// `clock` not advanced, or fake timers that leave performance.now() alone), a call waiting for a CLIENT's
// own token (add(..., { limit })) was never let go: 10 s of timers after a 5 s maxWait it was still
// pending, one timer re-armed for ever, while the same wait on a POOL limit was given up by the pool-token
// stage's backstop timer (maxWait + 5 s), which left the bucket's waiter queued and its timer armed.
// (Cause: ClientQueue's WaiterQueue re-read the clock at each timer and re-armed for the next token.)
// Now both waits are given up by a timer of their own at maxWait + 5 s (OVERDUE_MS, src/pipeline/pool-token.ts;
// `overdueMs` of WaiterQueue.push for the wait for a client) with RateLimitedError, and nothing stays armed.
// docs/call-pipeline.md: a wait on a clock that does not move ends maxWait + 5 s after it began.
// Fake timers (setTimeout, Date) moved by 100 ms steps; the pool clock is a manual one.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

async function scenario(where: 'client' | 'pool', moving: boolean, hooked: boolean): Promise<{ second: unknown; endedAt: number; timers: number }> {
  const t = { now: 0 };
  const limit = { rate: 1, per: 1_000, burst: 1 };
  const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => t.now }, ...(where === 'pool' ? { limit } : {}) });
  if (hooked) pool.use({ name: 'pass', around: (_s, next) => next() });
  pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
  const first = state(pool.run(() => 'v1'));
  const start = Date.now();
  let endedAt = -1;
  const second = state(pool.run(() => 'v2').finally(() => (endedAt = Date.now() - start)));
  await turns(3);
  for (let i = 0; i < 120; i++) {
    if (moving) t.now += 100;
    await vi.advanceTimersByTimeAsync(100);
  }
  await turns(3);
  expect(first()).toEqual({ ok: true, value: 'v1' });
  const result = { second: second(), endedAt, timers: vi.getTimerCount() };
  await pool.destroy();
  return result;
}

describe('a wait for a token on a clock that stands still', () => {
  for (const hooked of [false, true]) {
    it(`a client's own limit${hooked ? ', past a hook' : ''}: RateLimitedError at maxWait + 5 s, by the wait's own timer, nothing left armed`, async () => {
      const { second, endedAt, timers } = await scenario('client', false, hooked);
      expect((second as { value: unknown }).value).toBeInstanceOf(RateLimitedError);
      expect({ endedAt, timers }).toEqual({ endedAt: 10_000, timers: 0 });
    });
  }

  it('a pool limit: RateLimitedError at maxWait + 5 s, and the bucket drops its waiter (nothing left armed)', async () => {
    const { second, endedAt, timers } = await scenario('pool', false, false);
    expect((second as { value: unknown }).value).toBeInstanceOf(RateLimitedError);
    expect({ endedAt, timers }).toEqual({ endedAt: 10_000, timers: 0 });
  });

  it('control: a moving clock serves the client-limited call when its token comes', async () => {
    const { second, endedAt } = await scenario('client', true, false);
    expect(second).toEqual({ ok: true, value: 'v2' });
    expect(endedAt).toBe(1_000);
  });
});
