/**
 * "Nor does [an around hook] run for a call refused whatever it holds: the pool closing, fn not a
 * function, its signal already aborted" (docs/call-pipeline.md). The pool checks closed and aborted
 * before it reads the options' nested objects (scope(): closed, fn, signal, then `checked`), so a getter
 * in a nested retry/hedge/cost object that aborts the signal or closes the pool leaves the call to its
 * hooks: a caching hook answers a call the pool refuses without hooks. Minor: the getter has a side effect.
 *
 * Fixed since (session 21): scope() and runAroundCall ask again after the check, and composeAround asks
 * before each inner hook (`isRefused`). The outer-hook cases are pinned in test/pipeline/held-calls.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool } from '../../../src/index.js';
import { NONE, run, shape, watchedPool, type Watchers } from './helpers.js';

const ALL: Watchers = { around: true, onCallEnd: true, trace: true };

type Maker = (pool: ClientPool<string>, ac: AbortController) => Record<string, unknown>;

const CASES: [string, Maker, string][] = [
  ['a retry.attempts getter that aborts the signal', (_p, ac) => ({ signal: ac.signal, retry: { get attempts() { ac.abort(new Error('gone')); return 2; } } }), 'ERR_ABORTED'],
  ['a hedge.delay getter that aborts the signal', (_p, ac) => ({ signal: ac.signal, hedge: { get delay() { ac.abort(new Error('gone')); return 5; } } }), 'ERR_ABORTED'],
  ['a cost getter that aborts the signal', (_p, ac) => ({ signal: ac.signal, cost: { get requests() { ac.abort(new Error('gone')); return 1; } } }), 'ERR_ABORTED'],
  ['a retry.attempts getter that closes the pool', (p) => ({ retry: { get attempts() { void p.close(); return 2; } } }), 'ERR_POOL_CLOSED'],
  ['a cost getter that closes the pool', (p) => ({ cost: { get requests() { void p.close(); return 1; } } }), 'ERR_POOL_CLOSED'],
];

describe('a call aborted or closed by its own option getters, before its hooks', () => {
  it.each(CASES)('%s: unwatched, the call is refused (control)', async (_name, make, code) => {
    const w = watchedPool(NONE);
    const got = await run(w.pool, (c: string) => c, make(w.pool, new AbortController()));
    expect(shape(got)).toMatchObject({ code });
    await w.done();
  });

  it.each(CASES)('%s: no around hook runs for it, and the caller gets the unwatched refusal', async (_name, make, code) => {
    const w = watchedPool(ALL);
    const got = await run(w.pool, (c: string) => c, make(w.pool, new AbortController()));
    expect(shape(got)).toMatchObject({ code });
    expect(w.scopes).toHaveLength(0);
    expect(w.ends).toHaveLength(1);
    await w.done();
  });

  it.each(CASES)('%s: a caching around hook (answers without next()) cannot resolve it', async (_name, make, code) => {
    const w = watchedPool(ALL, {}, ['a', 'b'], () => Promise.resolve('cached'));
    const got = await run(w.pool, (c: string) => c, make(w.pool, new AbortController()));
    expect(shape(got)).toMatchObject({ code });
    await w.done();
  });

  it('control: an outer hook that aborts the signal, then next() with a pass-through inner hook: AbortedError, fn never runs', async () => {
    const pool = new ClientPool<string>();
    const ac = new AbortController();
    let fnRuns = 0;
    pool.use({ name: 'outer', around: (_s, next) => { ac.abort(new Error('gone')); return next(); } });
    pool.use({ name: 'inner', around: (_s, next) => next() });
    pool.add('a');
    const got = await run(pool, (c: string) => (fnRuns++, c), { signal: ac.signal });
    expect(got.value).toBeInstanceOf(AbortedError);
    expect(fnRuns).toBe(0);
    await pool.close();
  });
});
