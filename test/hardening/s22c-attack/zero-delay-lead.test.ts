import { describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError } from '../../../src/index.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault of 17f5dab (s22c #3), gone with its revert in session 22: on a clock that moves EXACTLY with the timers (Date.now() under
// vi.useFakeTimers(), the maintainers' own setup; or a manual clock stepped 1 ms with them), a call waiting for
// a slot (`maxInFlight`) is refused with ConcurrencyLimitedError at 999 ms of its 1 000 ms maxWait, once a slot
// freed earlier in its wait.
//
// Input: maxWait 1 000, one client { maxInFlight: 1 } busy; two calls queued at 0; the busy call ends at 700
// (the first waiter takes the slot and keeps it). Observed: the second is refused at 999 ms (on 456af51: 1 000).
// Trace (setTimeout spied): at 0 a 1 000 ms timer; at 700 the slot's wake arms a 0 ms timer (wakeAt(now));
// #arm records timerView = 700 + max(1, 0) = 701 ("Node fires a timer of 0 ms after 1 ms"); the fake timer fires
// at 700 (a 0 ms timer armed outside a tick fires in the same ms in @sinonjs/fake-timers; in Node, 1 ms of
// *loop* time, which can be ~0 ms of performance.now()); #fire takes now = max(700, 701) = 701 and re-arms from
// it: delay 299, timerView 1 000, firing at 999, where the waiter whose deadline is 1 000 is refused.
// Expected: README maxWait / ConcurrencyLimitedError "none freed a slot within maxWait": not before 1 000 ms on
// a clock that moves with the timers (waiter-queue.ts: "A clock that moves is never behind it").
// Suspected cause: the 1 ms floor in `#timerView = now + Math.max(1, delay)` plus `#arm(now)` from that view.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

describe.each(['date', 'manual'] as const)('a slot wait after a slot freed mid-wait (clock %s, in step with timers)', (kind) => {
  it('the second waiter is refused at its maxWait (1 000 ms), not at 999', async () => {
    const start = Date.now();
    let t = 0;
    const now = kind === 'date' ? () => Date.now() - start : () => t;
    const pool = new ClientPool<string>({ maxWait: 1_000, clock: { now } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const g = gate();
    const busy = state(pool.run(() => g.promise.then(() => 'busy')));
    const first = state(pool.run(() => new Promise(() => {})));
    const second = state(pool.run(() => 'second'));
    await turns(2);
    let refusedAt: number | undefined;
    for (let ms = 1; ms <= 1_001 && refusedAt === undefined; ms++) {
      t += 1;
      await vi.advanceTimersByTimeAsync(1);
      if (ms === 700) g.open();
      await turns(1);
      if (second() !== 'pending') refusedAt = ms;
    }
    expect(busy()).toEqual({ ok: true, value: 'busy' });
    expect(first()).toBe('pending');
    expect((second() as { value: unknown }).value).toBeInstanceOf(ConcurrencyLimitedError);
    expect(refusedAt).toBe(1_000);
    await pool.destroy();
  });
});

it('control: with no slot freed mid-wait, both waiters are refused at exactly 1 000 ms', async () => {
  let t = 0;
  const pool = new ClientPool<string>({ maxWait: 1_000, clock: { now: () => t } });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  const busy = state(pool.run(() => new Promise(() => {})));
  const first = state(pool.run(() => 'first'));
  let refusedAt: number | undefined;
  await turns(2);
  for (let ms = 1; ms <= 1_001 && refusedAt === undefined; ms++) {
    t += 1;
    await vi.advanceTimersByTimeAsync(1);
    await turns(1);
    if (first() !== 'pending') refusedAt = ms;
  }
  expect(refusedAt).toBe(1_000);
  expect(busy()).toBe('pending');
  await pool.destroy();
});
