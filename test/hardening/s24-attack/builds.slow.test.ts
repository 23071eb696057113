// helper-107's lane attack, the built package (dist; `.ci/run` builds before the tests): the ESM and the
// CommonJS build give the same answers and counts through the pick stage's lane.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-clock.js';
import { ending } from '../../helpers/outcomes.js';

interface Fake {
  readonly id: string;
}

describe('the built package (dist), ESM and CJS alike', () => {
  it('plain run, run with options, close: the same in both builds', async () => {
    const root = new URL('../../../', import.meta.url);
    const esm = (await import(/* @vite-ignore */ new URL('dist/esm/index.js', root).href)) as typeof import('../../../src/index.js');
    const cjs = createRequire(import.meta.url)(new URL('dist/cjs/index.js', root).pathname) as typeof import('../../../src/index.js');
    const results: string[][] = [];
    for (const lib of [esm, cjs]) {
      const pool = new lib.ClientPool<Fake>({ clock: new ManualClock() });
      pool.add({ id: 'a' }, { name: 'a' });
      pool.add({ id: 'b' }, { name: 'b' });
      const out: string[] = [];
      out.push(await ending(pool.run((c) => c.id)));
      out.push(await ending(pool.run((c) => c.id, { method: 'm' })));
      out.push(await ending(pool.run(() => Promise.reject(new Error('x')))));
      out.push(await ending(pool.run((c) => c.id, { retry: { attempts: 2 } })));
      out.push(JSON.stringify(pool.members().map((m) => [m.name, m.inFlight, m.successes, m.failures])));
      await pool.close();
      out.push(await ending(pool.run((c) => c.id)));
      results.push(out);
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual(['value a', 'value b', 'error ERR_CLIENT_CALL', 'value b', '[["a",0,1,1],["b",0,2,0]]', 'error ERR_POOL_CLOSED']);
  });
});
