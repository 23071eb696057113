import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';

// Was a fault (s21 #1), fixed in session 21 (see NOTES.md): a coalesced call with no around hook whose nested getter (cache.ttl, retry.attempts, a
// cost object...) aborts the caller's signal while the call is checked (CallPlanner.checked, 4ed6f2c)
// is not refused: it starts a flight, fn runs, and the caller gets the flight's value.
//
// Input:    pool without hooks; run(fn, { coalesce: 'k', signal, cache: { get ttl() { ac.abort(); return 1000 } } })
// Expected: AbortedError, fn never runs. docs/call-pipeline.md: "Nor does one run for a call refused
//           whatever it holds: the pool closing, `fn` not a function, its `signal` already aborted, even
//           when a getter of its options closed or aborted it while they were checked"; README `signal`:
//           "aborts the call: it rejects with `AbortedError`". The same call without `coalesce`, or with
//           an around hook, is refused with AbortedError (both pinned below), and so is the same call
//           when the getter closes the pool (PoolClosedError, pinned too).
// Observed: resolves with 'a'; fn ran once. The caller's signal joins the flight with
//           addEventListener('abort'), which never fires for a signal already aborted, so the caller
//           waits for, and gets, the flight's result; with no steady caller, the flight is never aborted.
// Cause:    src/pool.ts #run checks `signal.aborted` before `this.#planner.checked(options)` reads the
//           nested getters, and nothing checks it again before core.coalesce(); Coalescer.#join does
//           not look at `signal.aborted` either.

useUnhandledGuard({ time: 'real', quietWarnings: true });

function pool(withHook: boolean): ClientPool<string> {
  const p = new ClientPool<string>();
  if (withHook) p.use({ name: 'h', around: (_s, next) => next() });
  p.add('a');
  return p;
}

describe('a nested getter aborts the signal while a coalesced call is checked', () => {
  it('cache.ttl getter, no hooks: AbortedError, fn never runs', async () => {
    const p = pool(false);
    const ac = new AbortController();
    let runs = 0;
    const cache = { get ttl() { ac.abort(new Error('getter')); return 1000; } };
    const call = state(p.run((c) => (runs++, c), { coalesce: 'k', cache, signal: ac.signal }));
    await turns();
    expect((call() as { value: unknown }).value).toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await p.close();
  });

  it('retry.attempts getter, no hooks: AbortedError, fn never runs', async () => {
    const p = pool(false);
    const ac = new AbortController();
    let runs = 0;
    const retry = { get attempts() { ac.abort(new Error('getter')); return 2; } };
    const call = state(p.run((c) => (runs++, c), { coalesce: 'k', retry, signal: ac.signal }));
    await turns();
    expect((call() as { value: unknown }).value).toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await p.close();
  });

  it('a joiner whose cache.ttl getter aborts its signal: AbortedError at once, not the flight\'s value', async () => {
    const p = pool(false);
    const fnGate = gate();
    let runs = 0;
    const first = p.run(async (c) => { runs++; await fnGate.promise; return c; }, { coalesce: 'k' });
    const ac = new AbortController();
    const cache = { get ttl() { ac.abort(new Error('getter')); return 1000; } };
    const joiner = state(p.run((c) => c, { coalesce: 'k', cache, signal: ac.signal }));
    await turns();
    const seen = joiner();
    fnGate.open();
    await first;
    await turns();
    expect(runs).toBe(1);
    expect((seen as { value: unknown }).value).toBeInstanceOf(AbortedError);
    await p.close();
  });

  it('control: the same call with an around hook: AbortedError, fn never runs', async () => {
    const p = pool(true);
    const ac = new AbortController();
    let runs = 0;
    const cache = { get ttl() { ac.abort(new Error('getter')); return 1000; } };
    await expect(p.run((c) => (runs++, c), { coalesce: 'k', cache, signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await p.close();
  });

  it('control: the same abort by a retry getter without coalesce: AbortedError, fn never runs', async () => {
    const p = pool(false);
    const ac = new AbortController();
    let runs = 0;
    const retry = { get attempts() { ac.abort(new Error('getter')); return 2; } };
    await expect(p.run((c) => (runs++, c), { retry, signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await p.close();
  });

  it('control: a nested getter that closes the pool, coalesced, no hooks: PoolClosedError, fn never runs', async () => {
    const p = pool(false);
    let runs = 0;
    const cache = { get ttl() { void p.close(); return 1000; } };
    await expect(p.run((c) => (runs++, c), { coalesce: 'k', cache })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(runs).toBe(0);
  });
});
