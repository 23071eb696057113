import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { ClientPool } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, turns } from '../../helpers/promise-state.js';

// Was a fault (s21 #2), fixed in session 21 (see NOTES.md): coalesced calls with different keys sharing one caller signal add one 'abort'
// listener per flight to that signal: 11 flights give Node's MaxListenersExceededWarning ("Possible
// EventTarget memory leak detected. 11 abort listeners added to [AbortSignal]").
//
// Input:    30 × run(fn, { coalesce: `k${i}`, signal }) on one AbortSignal, all in flight at once.
// Expected: one listener on the signal, as for every other call. docs/call-pipeline.md: "race ...
//           caller signal (one listener per signal)", "Each wait gets a signal of its own, joined ...
//           (one listener per signal, O(1) to join and leave): 40 000 calls queued behind a limit add no
//           listener each to one signal"; the same 30 calls without `coalesce`, or held in around hooks,
//           add one listener (pinned below).
// Observed: 30 listeners while in flight, a MaxListenersExceededWarning (0 after they settle: no leak).
// Cause:    src/pipeline/coalesce.ts Coalescer.#join: signal.addEventListener('abort', leave) per
//           (flight, signal), not the pool's SignalWatches. Not new in 4ed6f2c.

useUnhandledGuard({ time: 'real', quietWarnings: false });

async function listenersWhileInFlight(options: (i: number, signal: AbortSignal) => object, withHook = false): Promise<{ during: number; after: number; warned: boolean }> {
  const pool = new ClientPool<string>();
  if (withHook) pool.use({ name: 'h', around: async (_s, next) => { await Promise.resolve(); return next(); } });
  pool.add('a');
  const ac = new AbortController();
  const fnGate = gate();
  const warnings: string[] = [];
  const onWarning = (w: Error): number => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const calls = Array.from({ length: 30 }, (_, i) => pool.run(async (c) => { await fnGate.promise; return c; }, options(i, ac.signal)));
    await turns();
    const during = getEventListeners(ac.signal, 'abort').length;
    fnGate.open();
    await Promise.all(calls);
    await turns(10);
    return { during, after: getEventListeners(ac.signal, 'abort').length, warned: warnings.includes('MaxListenersExceededWarning') };
  } finally {
    process.off('warning', onWarning);
    await pool.close();
  }
}

describe('one caller signal shared by many calls', () => {
  it('30 coalesced keys on one signal: one listener, no MaxListenersExceededWarning', async () => {
    const seen = await listenersWhileInFlight((i, signal) => ({ coalesce: `k${i}`, signal }));
    expect(seen).toEqual({ during: 1, after: 0, warned: false });
  });

  it('control: 30 calls without coalesce on one signal: one listener', async () => {
    const seen = await listenersWhileInFlight((_i, signal) => ({ signal }));
    expect(seen).toEqual({ during: 1, after: 0, warned: false });
  });

  it('control: 30 calls through an around hook on one signal: one listener', async () => {
    const seen = await listenersWhileInFlight((_i, signal) => ({ signal }), true);
    expect(seen).toEqual({ during: 1, after: 0, warned: false });
  });
});
