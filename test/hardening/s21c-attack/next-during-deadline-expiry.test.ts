import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf, type Seen } from '../../helpers/promise-state.js';

// Was a fault (s21c), fixed in session 21 (NOTES.md): the deadline queue
// expires everything due in one timer firing, one entry after another. When an attempt expiring first
// aborts its call.signal, user code in that 'abort' listener runs while a held call due in the same firing
// has not been expired yet; a next() of that held call called there releases it (and takes it out of the
// due list) instead of refusing it.
//
// Input: two calls with `deadline: 100` on one pool with an around hook: X calls next() at once and its fn
//   hangs, with a call.signal 'abort' listener that calls H's stored next(); H's hook stores next, awaits a
//   gate, then returns 'hook answer'. 100 ms pass.
// Expected: docs/call-pipeline.md: a held call ends at "its `deadline` (from `run()`) with
//   `DeadlineExceededError` when it passes ... A hook that goes on later gets that refusal from its
//   `next()`; nobody waits for it, and `fn` never runs."
// Observed: H's caller is not ended at its deadline: it waits for the hook and resolves with 'hook answer'
//   (clock and timers in lockstep). With a clock that does not move under the fake timers ("the timer has
//   the last word"), H's fn even runs, after H's deadline, and H's caller gets fn's value.
// Suspected cause: held() in src/pipeline/around-call.ts: next() only asks `call.endedWith`; a held call
//   that is due (DeadlineQueue `#fire` put it on the DUE list) but not yet expired is released, and
//   DeadlineQueue.remove() treats it as "settled between its deadline and its expiry".

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

function setup(): { h: () => Seen; hFn: () => number; clock: { t: number }; hookGate: ReturnType<typeof gate>; pool: ClientPool<string> } {
  const clock = { t: 0 };
  const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
  let stored: (() => Promise<unknown>) | undefined;
  const hookGate = gate();
  pool.use({ name: 'lock', around: async (scope, next) => {
    if (scope.options.method !== 'H') return next();
    stored = next;
    await hookGate.promise;
    return 'hook answer';
  } });
  pool.add('a', { name: 'a' });
  pool.add('b', { name: 'b' });
  const x = pool.run((_c, call) => {
    call.signal.addEventListener('abort', () => { stored?.().catch(() => undefined); });
    return new Promise(() => undefined);
  }, { method: 'X', deadline: 100 });
  x.catch(() => undefined);
  let hFn = 0;
  const h = state(pool.run(() => { hFn++; return 'h fn'; }, { method: 'H', deadline: 100 }));
  return { h, hFn: () => hFn, clock, hookGate, pool };
}

async function pass(ms: number, clock: { t: number }, clockMoves: boolean): Promise<void> {
  for (let i = 0; i < ms; i++) {
    if (clockMoves) clock.t++;
    await vi.advanceTimersByTimeAsync(1);
  }
  await turns();
}

describe("a held call's next() called while the deadline queue expires the same firing", () => {
  it('clock and timers in lockstep: H ends with DeadlineExceededError at 100 ms', async () => {
    const { h, clock, hookGate, pool } = setup();
    await pass(100, clock, true);
    const observed = h();
    hookGate.open();
    await turns();
    expect(observed).not.toBe('pending');
    expect(errorOf(observed)).toBeInstanceOf(DeadlineExceededError);
    await pool.close();
  });

  it("a clock that stands still under the timers: H's fn never runs", async () => {
    const { hFn, clock, hookGate, pool } = setup();
    await pass(100, clock, false);
    hookGate.open();
    await turns();
    expect(hFn()).toBe(0);
    await pool.close();
  });
});
