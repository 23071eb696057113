import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf, type Seen } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { harness } from './harness.js';

// Was a fault (s21c), fixed in session 21 (NOTES.md): a hook's next() called from an 'abort' listener that was added to the caller's signal before the
// pool's own (the listener runs first: signal.aborted is true, the pool has not heard the abort yet)
// releases the held call instead of refusing it: the caller is not rejected at once, it waits for the hook.
//
// Input: const ac = new AbortController(); ac.signal.addEventListener('abort', () => held.next()) before
//   run(fn, { signal: ac.signal }); the around hook stores next, awaits a gate and returns what it likes
//   (its own answer, or what the stored next() gave); ac.abort('why').
// Expected: docs/call-pipeline.md: "its caller's abort rejects it there with `AbortedError` at once ...
//   A hook that goes on later gets that refusal from its `next()`; nobody waits for it, and `fn` never
//   runs". The next() comes after the abort (signal.aborted is already true), so it is a late next().
// Observed: the caller is still pending after the abort; it settles with the hook's own answer once the
//   hook returns ('hook answer': an aborted caller resolved). The stored next() rejects with an
//   AbortedError that is not the caller's (a fresh one made by the journey), since the held call was
//   released rather than ended. fn never runs. The same listener added *after* run() (so after the pool's
//   watch) gives AbortedError at once (control, passes).
// Suspected cause: src/pipeline/around-call.ts held(): next() asks only `call.endedWith`; it does not ask
//   `signal.aborted` (nor `core.isClosing`), which isRefused() in the same function does ask.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

function setup(listenerFirst: boolean): { seen: () => Seen; fromNext: () => unknown; hookGate: ReturnType<typeof gate>; ac: AbortController; fnRuns: () => number; h: ReturnType<typeof harness> } {
  const ac = new AbortController();
  const hookGate = gate();
  let stored: (() => Promise<unknown>) | undefined;
  let fromNext: unknown = 'not called';
  const callStored = (): void => {
    stored!().then((v) => { fromNext = v; }, (e: unknown) => { fromNext = e; });
  };
  if (listenerFirst) ac.signal.addEventListener('abort', callStored);
  const h = harness([async (_s, next) => { stored = next; await hookGate.promise; return 'hook answer'; }]);
  let fnRuns = 0;
  const seen = state(h.pool.run(() => { fnRuns++; return 'fn'; }, { signal: ac.signal }));
  if (!listenerFirst) ac.signal.addEventListener('abort', callStored);
  return { seen, fromNext: () => fromNext, hookGate, ac, fnRuns: () => fnRuns, h };
}

describe("a hook's next() called from an abort listener that runs before the pool's", () => {
  it('the caller rejects with AbortedError at once (reason as cause)', async () => {
    const { seen, hookGate, ac, h } = setup(true);
    await turns();
    ac.abort('why');
    await turns();
    const observed = seen();
    hookGate.open();
    await turns();
    expect(observed).not.toBe('pending');
    expect(errorOf(observed)).toBeInstanceOf(AbortedError);
    expect((errorOf(observed) as Error).cause).toBe('why');
    await h.pool.close();
  });

  it("the aborted caller never resolves with the hook's own answer", async () => {
    const { seen, hookGate, ac, h } = setup(true);
    await turns();
    ac.abort('why');
    await turns();
    hookGate.open();
    await turns();
    expect(seen()).not.toEqual({ ok: true, value: 'hook answer' });
    await h.pool.close();
  });

  it("that next() rejects with the caller's own error object", async () => {
    const { seen, fromNext, hookGate, ac, h } = setup(true);
    await turns();
    ac.abort('why');
    await turns();
    hookGate.open();
    await turns();
    expect(fromNext()).toBeInstanceOf(AbortedError);
    const s = seen();
    expect(s !== 'pending' && !(s as { ok: boolean }).ok ? (s as { value: unknown }).value : 'caller not rejected').toBe(fromNext());
    await h.pool.close();
  });

  it('fn never runs, onCallEnd once, nothing in flight', async () => {
    const { hookGate, ac, fnRuns, h } = setup(true);
    await turns();
    ac.abort('why');
    hookGate.open();
    await turns();
    expect(fnRuns()).toBe(0);
    expect(h.ends).toHaveLength(1);
    expect(inFlight(h.pool)).toBe(0);
    await h.pool.close();
  });

  it("control: the listener added after run() (after the pool's watch): AbortedError at once, next() gets the caller's error", async () => {
    const { seen, fromNext, hookGate, ac, fnRuns, h } = setup(false);
    await turns();
    ac.abort('why');
    await turns();
    const err = errorOf(seen());
    expect(err).toBeInstanceOf(AbortedError);
    expect(fromNext()).toBe(err);
    hookGate.open();
    await turns();
    expect(fnRuns()).toBe(0);
    await h.pool.close();
  });
});
