import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool } from '../../../src/index.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { inFlight } from '../../helpers/watched-pool.js';

// Probe (passes): 6 000 calls share one signal through three stacked around hooks; a third are held before
// next(), a third are past next() with the hook hanging after fn answered, a third are in flight (fn honours
// call.signal, timeout 60 s never reached). One 'abort' listener on the signal, no warning; one abort ends
// all 6 000 with AbortedError (the reason as cause), no listener left, nothing in flight; the held ones
// never run fn when their gate opens later; close() resolves. No time is involved.

useUnhandledGuard({ time: 'real', quietWarnings: true });

describe('one signal, thousands of calls in hooks', () => {
  it('one listener, one abort ends them all', async () => {
    const pool = new ClientPool<string>();
    const g = gate();
    const warnings: unknown[] = [];
    const onWarning = (w: unknown): number => warnings.push(w);
    process.on('warning', onWarning);
    let i = 0;
    pool.use({ name: 'outer', around: (_s, next) => next() });
    pool.use({ name: 'mid', around: async (_s, next) => {
      const kind = i++ % 3;
      if (kind === 0) await g.promise;
      const v = await next();
      if (kind === 1) await new Promise(() => undefined);
      return v;
    } });
    pool.use({ name: 'inner', around: (_s, next) => next() });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const ac = new AbortController();
    let fnRuns = 0;
    const calls = Array.from({ length: 6_000 }, (_, j) => state(pool.run((_c, call) => {
      fnRuns++;
      return j % 3 === 1 ? 'v' : new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('stopped'))));
    }, { signal: ac.signal, timeout: 60_000 })));
    await turns(5);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    expect(fnRuns).toBe(4_000);
    expect(inFlight(pool)).toBe(2_000);
    ac.abort('bye');
    await turns(5);
    for (const s of calls) {
      const r = s();
      expect(r).toMatchObject({ ok: false });
      expect((r as { value: unknown }).value).toBeInstanceOf(AbortedError);
      expect(((r as { value: Error }).value).cause).toBe('bye');
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(inFlight(pool)).toBe(0);
    g.open();
    await turns(5);
    expect(fnRuns).toBe(4_000);
    await pool.close();
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });
});
