import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import * as esm from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, type Seen } from '../../helpers/promise-state.js';

// Pins the CommonJS copy (bundled from src, as test/helpers/cjs-copy.ts does) on the paths of
// 4ed6f2c..1967c36, with objects of the ESM copy given to it: a middleware object made for the ESM pool,
// signals shared by both pools' held and coalesced calls. Each pool's refusals are its own copy's
// classes with the documented codes; one abort ends the calls of both pools; no listener left.

useUnhandledGuard({ time: 'real', quietWarnings: true });
const cjs = useCjsCopy();

const codeOf = (s: Seen): string => (s === 'pending' ? 'pending' : s.ok ? 'ok' : String((s.value as { code?: string }).code));

describe('the CJS copy beside the ESM one', () => {
  it('one signal: held and coalesced calls of a CJS pool and an ESM pool all end with ERR_ABORTED, their own classes', async () => {
    const hookGate = gate();
    // One middleware object, used by both pools.
    const hold: esm.Middleware<string> = { name: 'hold', around: async (s, next) => { if (s.method === 'held') await hookGate.promise; return next(); } };
    const cPool = new cjs.current.ClientPool<string>();
    const ePool = new esm.ClientPool<string>();
    cPool.use(hold);
    ePool.use(hold);
    cPool.add('c');
    ePool.add('e');
    const ac = new AbortController();
    const fnGate = gate();
    const fn = async (c: string): Promise<string> => { await fnGate.promise; return c; };
    const calls = [cPool, ePool].flatMap((pool) => [
      state(pool.run(fn, { signal: ac.signal, method: 'held' })),
      state(pool.run(fn, { signal: ac.signal, coalesce: 'k1' })),
      state(pool.run(fn, { signal: ac.signal, coalesce: 'k2' })),
    ]);
    await turns();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(2); // one per pool
    ac.abort('x');
    await turns();
    expect(calls.map((c) => codeOf(c()))).toEqual(Array(6).fill('ERR_ABORTED'));
    expect((calls[0]!() as { value: unknown }).value).toBeInstanceOf(cjs.current.AbortedError);
    expect((calls[1]!() as { value: unknown }).value).toBeInstanceOf(cjs.current.AbortedError);
    expect((calls[3]!() as { value: unknown }).value).toBeInstanceOf(esm.AbortedError);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    fnGate.open();
    hookGate.open();
    await Promise.all([cPool.close(), ePool.close()]);
  });

  it('close() of the CJS pool ends its held call (ERR_POOL_CLOSED); the ESM pool held on the same signal goes on', async () => {
    const hookGate = gate();
    const hold: esm.Middleware<string> = { name: 'hold', around: async (_s, next) => { await hookGate.promise; return next(); } };
    const cPool = new cjs.current.ClientPool<string>();
    const ePool = new esm.ClientPool<string>();
    cPool.use(hold);
    ePool.use(hold);
    cPool.add('c');
    ePool.add('e');
    const ac = new AbortController();
    const c = state(cPool.run((x) => x, { signal: ac.signal }));
    const e = state(ePool.run((x) => x, { signal: ac.signal }));
    await turns();
    await cPool.close();
    expect(codeOf(c())).toBe('ERR_POOL_CLOSED');
    expect((c() as { value: unknown }).value).toBeInstanceOf(cjs.current.PoolClosedError);
    expect(e()).toBe('pending');
    hookGate.open();
    await turns();
    expect(e()).toEqual({ ok: true, value: 'e' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await ePool.close();
  });
});
