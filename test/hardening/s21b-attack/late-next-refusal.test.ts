import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, PoolClosedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';

// Was a fault (s21b #2, low; arguable), fixed in session 21 (NOTES.md): a hook whose held call was ended by destroy(reason) gets, from its late
// next(), a plain PoolClosedError without the reason, not the refusal its caller got.
//
// Input:    an around hook awaiting a gate; run(fn); pool.destroy('why') while the call is held; the gate
//           opens and the hook calls next().
// Expected: docs/call-pipeline.md, close() and destroy(): "close() (so destroy() too) ends it with
//           `PoolClosedError` without waiting for the hook. A hook that goes on later gets that refusal
//           from its `next()`". The caller's refusal is PoolClosedError with cause 'why' (README
//           `destroy(reason)`; pinned below); for an abort the late next() does give the caller's
//           refusal, the reason as cause (control below).
// Observed: next() rejects with a new PoolClosedError with no cause (the journey's own closed check).
// Cause:    src/pipeline/around-call.ts `held()`: next() ignores what the held call ended with and runs
//           the journey (`#run`), which refuses the closing pool afresh. Same root as fault #1
//           (faults-held-deadline-late-next.test.ts): next() should answer with the held call's own
//           error once it has ended.

useUnhandledGuard({ time: 'real', quietWarnings: true });

async function lateNext(end: (pool: ClientPool<string>, ac: AbortController) => Promise<void> | void): Promise<{ caller: unknown; late: unknown; runs: number }> {
  const pool = new ClientPool<string>();
  const g = gate();
  let late: Promise<unknown> | undefined;
  pool.use({ name: 'h', around: async (_s, next) => { await g.promise; late = next(); return late; } });
  pool.add('a');
  const ac = new AbortController();
  let runs = 0;
  const caller = state(pool.run((c) => (runs++, c), { signal: ac.signal }));
  await turns();
  await end(pool, ac);
  g.open();
  await turns();
  const lateError = await late!.then(() => undefined, (e: unknown) => e);
  const seen = caller();
  await pool.close();
  return { caller: seen === 'pending' ? seen : seen.value, late: lateError, runs };
}

describe("a held call's late next() gives its caller's refusal", () => {
  it('destroy(reason): next() rejects with PoolClosedError, the reason as cause', async () => {
    const seen = await lateNext((pool) => pool.destroy('why'));
    expect(seen.caller).toBeInstanceOf(PoolClosedError);
    expect((seen.caller as Error).cause).toBe('why');
    expect(seen.runs).toBe(0);
    expect(seen.late).toBeInstanceOf(PoolClosedError);
    expect((seen.late as Error).cause).toBe('why');
  });

  it('control: an abort: next() rejects with AbortedError, the reason as cause', async () => {
    const reason = new Error('stop');
    const seen = await lateNext((_pool, ac) => ac.abort(reason));
    expect(seen.caller).toBeInstanceOf(AbortedError);
    expect(seen.late).toBeInstanceOf(AbortedError);
    expect((seen.late as Error).cause).toBe(reason);
    expect(seen.runs).toBe(0);
  });
});
