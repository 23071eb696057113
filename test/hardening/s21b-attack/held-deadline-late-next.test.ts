import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';

// Was a fault (s21b #1), fixed in session 21 (NOTES.md): a held call ended by its deadline still runs `fn` when its hook calls next() later,
// if the pool's clock does not show the deadline as passed (a clock that lags the timers, a ManualClock
// not advanced under fake timers, a clock stepped back).
//
// Input:    an around hook awaiting a gate; run(fn, { deadline: 100 }) on a pool whose clock is not
//           advanced (or advanced only 50 ms, or stepped back 1 000 ms) while fake timers run 100 ms;
//           the caller gets DeadlineExceededError (the deadline queue's timer has the last word); then
//           the gate opens and the hook calls next().
// Expected: docs/call-pipeline.md, close() and destroy(): "its `deadline` (from `run()`) with
//           `DeadlineExceededError` when it passes ... A hook that goes on later gets that refusal from
//           its `next()`; nobody waits for it, and `fn` never runs." And "A clock that stands still while
//           timers run (a `ManualClock` not advanced under fake timers) still ends every deadline, since
//           the timer has the last word". The same late next() after an abort or close() is refused and
//           fn never runs (s21-attack/held-abort-close.test.ts); with the clock advanced to the deadline
//           it is refused too (pinned below as a control).
// Observed: the caller has DeadlineExceededError, but the late next() runs fn (once, on a client, its
//           slot taken while nobody waits) and resolves the hook's next() with fn's value. With
//           `coalesce`, the late next() starts a flight that later callers of the key join.
// Cause:    src/pipeline/around-call.ts `held()`: next() calls `call.release()` (a no-op for an ended
//           call) and then `planner.handOver(scope, run)` whatever the held call ended with. For an abort
//           or close() the journey (`#run`) refuses again (signal.aborted, isClosing); for a deadline it
//           re-derives the verdict from the clock (the plan's deadlineAt vs the deadline clock), which
//           may not agree with the timer that ended the call. next() should hand back the held call's
//           own error once it has ended (HeldCall knows it: `#ended` / its `#isDone` before release).

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

interface Late {
  readonly caller: unknown;
  readonly runs: number;
  readonly late: unknown;
}

async function lateNext(step: (t: number) => number, coalesce?: string): Promise<Late> {
  let t = 0;
  const pool = new ClientPool<string>({ clock: { now: () => t } });
  const hook = gate();
  let nextResult: Promise<unknown> | undefined;
  pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; nextResult = next(); return nextResult; } });
  pool.add('a');
  let runs = 0;
  const call = state(pool.run((c) => (runs++, c), coalesce === undefined ? { deadline: 100 } : { deadline: 100, coalesce }));
  t = step(t);
  await vi.advanceTimersByTimeAsync(100);
  await turns();
  const seen = call();
  hook.open();
  await turns();
  const late = nextResult === undefined ? 'no next()' : await nextResult.then((value) => ({ value }), (error: unknown) => ({ error: (error as Error).name }));
  await pool.close();
  return { caller: seen === 'pending' ? seen : seen.ok ? seen.value : (seen.value as Error).name, runs, late };
}

const refused = { caller: 'DeadlineExceededError', runs: 0, late: { error: 'DeadlineExceededError' } };

describe('a late next() after a held call ended at its deadline', () => {
  it('a clock not advanced: fn never runs, next() gives the refusal', async () => {
    expect(await lateNext((t) => t)).toEqual(refused);
  });

  it('a clock that lags the timers (50 ms of 100): fn never runs', async () => {
    expect(await lateNext((t) => t + 50)).toEqual(refused);
  });

  it('a clock stepped back 1 000 ms while held: fn never runs', async () => {
    expect(await lateNext((t) => t - 1000)).toEqual(refused);
  });

  it('coalesced, clock not advanced: the late next() starts no flight, fn never runs', async () => {
    expect(await lateNext((t) => t, 'k')).toEqual(refused);
  });

  it('control: the clock advanced to the deadline: refused, fn never runs', async () => {
    expect(await lateNext((t) => t + 100)).toEqual(refused);
    expect(DeadlineExceededError).toBeTypeOf('function');
  });
});
