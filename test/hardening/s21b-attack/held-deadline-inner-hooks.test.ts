import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';

// Was a fault (s21b #3), fixed in session 21 (NOTES.md): after a held call ended at its deadline, an outer hook's late next() still runs the
// hooks inside it, and what an inner hook answers (a cache hit) comes back from the outer hook's next()
// instead of the refusal. For a call ended by its caller's abort or by close(), the inner hooks are
// skipped and the outer next() gets the refusal (controls below). The clock here is advanced with the
// timers: this is the ordinary case, not an odd clock.
//
// Input:    pool.use(outer: awaits a gate, then next()); pool.use(inner: answers 'cached' without next());
//           run(fn, { deadline: 100 }); clock and timers advanced 100 ms (the caller gets
//           DeadlineExceededError); the gate opens.
// Expected: docs/call-pipeline.md, close() and destroy(): a held call ends at "its `deadline` (from
//           `run()`) with `DeadlineExceededError` when it passes ... A hook that goes on later gets that
//           refusal from its `next()`; nobody waits for it". And (options): "when an outer hook closes the
//           pool or aborts the signal before its `next()`, the hooks inside it are skipped and the call is
//           refused". So: the inner hook does not run, the outer next() rejects with DeadlineExceededError.
// Observed: the inner hook runs (once) for the call nobody waits for, and the outer hook's next()
//           resolves with 'cached'. An inner hook with side effects (a lock, a remote cache, a counter)
//           does its work for a call that has ended.
// Cause:    src/pipeline/around-call.ts `held()`: the refusal check given to the composed chain is
//           `() => core.isClosing || signal.aborted`; it does not ask whether the held call has ended
//           (HeldCall, ended by its deadline via the deadline queue). Checking the held call's end there
//           (and answering next() with its error, see fault #1) would skip the inner hooks.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

type End = 'deadline' | 'abort' | 'close';

async function outerLateNext(end: End): Promise<{ caller: string; innerRuns: number; outerNext: unknown }> {
  let t = 0;
  const pool = new ClientPool<string>({ clock: { now: () => t } });
  const g = gate();
  let outerNext: Promise<unknown> | undefined;
  let innerRuns = 0;
  pool.use({ name: 'outer', around: async (_s, next) => { await g.promise; outerNext = next(); return outerNext; } });
  pool.use({ name: 'inner', around: async () => { innerRuns++; return 'cached'; } });
  pool.add('a');
  const ac = new AbortController();
  const call = state(pool.run((c) => c, { deadline: 100, signal: ac.signal }));
  await turns();
  if (end === 'deadline') {
    t = 100;
    await vi.advanceTimersByTimeAsync(100);
  } else if (end === 'abort') ac.abort('x');
  else void pool.close();
  await turns();
  g.open();
  await turns();
  const late = await outerNext!.then((value) => ({ value }), (error: unknown) => ({ error: (error as Error).name }));
  const seen = call();
  await pool.close();
  return { caller: seen === 'pending' ? seen : seen.ok ? 'ok' : (seen.value as Error).name, innerRuns, outerNext: late };
}

describe("an outer hook's late next() after the held call ended", () => {
  it('ended at its deadline: inner hooks skipped, next() rejects with DeadlineExceededError', async () => {
    expect(await outerLateNext('deadline')).toEqual({ caller: 'DeadlineExceededError', innerRuns: 0, outerNext: { error: 'DeadlineExceededError' } });
  });

  it('control: ended by its abort: inner hooks skipped, next() rejects with AbortedError', async () => {
    expect(await outerLateNext('abort')).toEqual({ caller: 'AbortedError', innerRuns: 0, outerNext: { error: 'AbortedError' } });
  });

  it('control: ended by close(): inner hooks skipped, next() rejects with PoolClosedError', async () => {
    expect(await outerLateNext('close')).toEqual({ caller: 'PoolClosedError', innerRuns: 0, outerNext: { error: 'PoolClosedError' } });
  });
});
