import { describe, expect, it } from 'vitest';
import { AbortedError, DeadlineExceededError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { harness } from './harness.js';

// Was a fault (s21c #4), fixed in session 21 (NOTES.md): a call whose around hook has called next() and then hangs (awaits a slow span flush, a cache
// write, a lock release after the answer) ignores its caller's abort and its deadline: the caller stays
// pending however long the hook takes, after its attempt has settled.
//
// Input: pool.use({ around: async (s, next) => { const v = await next(); await slow; return v } });
//   run(fn, { signal }) then abort; or run(fn, { deadline: 100 }) and 200 ms pass; fn answers at once.
// Expected: README `signal`: "aborts the call: it rejects with `AbortedError` (the reason as `cause`)";
//   README `deadline`: "ms for the whole call from `run()`, every attempt, backoff, hedge and wait
//   included; past it, `DeadlineExceededError`"; docs/call-pipeline.md: "a `deadline` counts from `run()`,
//   time in `around` hooks included". The held-call machinery ends a call "without waiting for the hook"
//   before next(); nothing in the docs exempts time in a hook after next().
// Observed: the caller is still pending after the abort and 200 ms past the deadline (the attempt
//   long settled, inFlight 0, onCallEnd not heard); it settles only when the hook returns (with fn's value,
//   after the deadline). close() resolves with these callers still pending.
// Controls (pass): the same hook hanging *before* next() is ended at once by the abort and the deadline.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

describe('a hook hanging after next()', () => {
  it('the caller aborts after fn answered, the hook still awaiting: AbortedError at once', async () => {
    const slow = gate();
    const ac = new AbortController();
    const h = harness([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const seen = state(h.pool.run(() => 'v', { signal: ac.signal }));
    await h.advance(10);
    expect(inFlight(h.pool)).toBe(0);
    ac.abort('why');
    await turns();
    const observed = seen();
    slow.open();
    await turns();
    expect(observed).not.toBe('pending');
    expect(errorOf(observed)).toBeInstanceOf(AbortedError);
    await h.pool.close();
  });

  it('the deadline passes after fn answered, the hook still awaiting: DeadlineExceededError at the deadline', async () => {
    const slow = gate();
    const h = harness([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const seen = state(h.pool.run(() => 'v', { deadline: 100 }));
    await h.advance(200);
    const observed = seen();
    slow.open();
    await turns();
    expect(observed).not.toBe('pending');
    expect(errorOf(observed)).toBeInstanceOf(DeadlineExceededError);
    await h.pool.close();
  });

  it('the deadline passes while fn has failed and the hook runs a slow fallback: DeadlineExceededError at the deadline, not the fallback at 500 ms', async () => {
    const h = harness([async (_s, next) => {
      try {
        return await next();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return 'fallback';
      }
    }]);
    const seen = state(h.pool.run(() => { throw new Error('down'); }, { deadline: 100 }));
    await h.advance(150);
    const at150 = seen();
    await h.advance(400);
    expect(at150).not.toBe('pending');
    expect(errorOf(at150)).toBeInstanceOf(DeadlineExceededError);
    await h.pool.close();
  });

  it('control: the same hook hanging before next() is ended at once by the abort and at the deadline', async () => {
    const slow = gate();
    const ac = new AbortController();
    const h = harness([async (_s, next) => { await slow.promise; return next(); }]);
    const a = state(h.pool.run(() => 'v', { signal: ac.signal }));
    const d = state(h.pool.run(() => 'v', { deadline: 100 }));
    await h.advance(10);
    ac.abort('why');
    await h.advance(100);
    expect(errorOf(a())).toBeInstanceOf(AbortedError);
    expect(errorOf(d())).toBeInstanceOf(DeadlineExceededError);
    slow.open();
    await turns();
    await h.pool.close();
  });
});
