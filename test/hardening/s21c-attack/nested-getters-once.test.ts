import { describe, expect, it } from 'vitest';
import { ClientPool, type Balancer } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, turns } from '../../helpers/promise-state.js';

// Pins: with an around hook holding the call, nested getters of its options (retry.attempts, hedge.delay,
// a per-call strategy's pick, cost) are read once for the call, and a getter that starts another call on
// the same pool (synchronously, while this one is planned) gives neither call the other's plan.
// docs/call-pipeline.md: "what was checked before the hooks (the plan, its deadline started) is what the
// call runs on when they call `next()`, so no nested getter (a `cost`, a `cache`, a per-call Balancer's)
// is read twice".

useUnhandledGuard({ time: 'real', quietWarnings: true });

describe('nested getters with a held call', () => {
  it('retry.attempts and hedge.delay read once each; a call started from the getter runs on its own options', async () => {
    const pool = new ClientPool<string>({});
    const g = gate();
    pool.use({ name: 'h', around: async (scope, next) => { if (scope.options.method === 'outer') await g.promise; return next(); } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    let attemptsReads = 0;
    let delayReads = 0;
    const inner: Promise<unknown>[] = [];
    const retry = { get attempts(): number { attemptsReads++; inner.push(pool.run(() => 'inner', { method: 'inner', deadline: 10_000 })); return 2; } };
    const hedge = { get delay(): number { delayReads++; return 50; } };
    let runs = 0;
    const outer = pool.run(() => { runs++; if (runs === 1) throw new Error('first fails'); return 'outer'; }, { method: 'outer', retry, hedge });
    await turns();
    g.open();
    await expect(outer).resolves.toBe('outer');
    await expect(Promise.all(inner)).resolves.toEqual(inner.map(() => 'inner'));
    expect(attemptsReads).toBe(1);
    expect(delayReads).toBe(1);
    await pool.close();
  });

  it("a per-call strategy's pick getter is read as often with a held hook as without one", async () => {
    const reads = async (withHook: boolean): Promise<number> => {
      const pool = new ClientPool<string>({});
      const g = gate();
      if (withHook) pool.use({ name: 'h', around: async (_s, next) => { await g.promise; return next(); } });
      pool.add('a', { name: 'a' });
      let pickReads = 0;
      const strategy = { get pick(): Balancer<string>['pick'] { pickReads++; return (ready) => ready[0]!; } } as Balancer<string>;
      const p = pool.run((c) => c, { strategy, deadline: 10_000 });
      await turns();
      g.open();
      await expect(p).resolves.toBe('a');
      await pool.close();
      return pickReads;
    };
    expect(await reads(true)).toBe(await reads(false));
  });
});
