import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { describe_, settle } from './helpers.js';

// Checking a call's plan, retry and hedge twice (CallPlanner.scope() and #run) must leave the pool as a
// pool without hooks is left: the retry budget, latency timing (a quantile hedge turns it on), the deadline.

function pair(options: ConstructorParameters<typeof ClientPool<string>>[0] = {}): { plain: ClientPool<string>; hooked: ClientPool<string>; hooks: { n: number } } {
  const plain = new ClientPool<string>(options);
  const hooked = new ClientPool<string>(options);
  const hooks = { n: 0 };
  hooked.use({ name: 'around', around: (_s, next) => { hooks.n++; return next(); } });
  plain.add('a', { name: 'a' });
  hooked.add('a', { name: 'a' });
  return { plain, hooked, hooks };
}

describe('state after refused calls, with and without hooks', () => {
  const REFUSED: [string, Record<string, unknown>][] = [
    ['priority bogus with a quantile hedge', { priority: 'bogus', hedge: { delay: { quantile: 0.5 } } }],
    ['retry 7 with a quantile hedge', { retry: 7, hedge: { delay: { quantile: 0.5 } } }],
    ['a bad cache with a retry', { coalesce: 'k', cache: { ttl: -1 }, retry: { attempts: 3 } }],
    ['timeout -1 with a retry', { timeout: -1, retry: { attempts: 3 } }],
  ];
  it.each(REFUSED)('%s: the retry budget and latency timing afterwards are as without hooks', async (_name, options) => {
    const clock = { t: 0 };
    const { plain, hooked } = pair({ clock: { now: () => clock.t } });
    for (const pool of [plain, hooked]) {
      const got = await settle(pool.run((c) => c, options));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
      // A plain call afterwards that takes 5 ms of the injected clock: timed or not as the pool's settings say.
      await pool.run((c) => { clock.t += 5; return c; });
    }
    const timed = (p: ClientPool<string>): boolean => (p.members()[0]!.latencyMs ?? 0) > 0;
    expect(timed(hooked)).toBe(timed(plain));
    expect(hooked.retryBudget).toEqual(plain.retryBudget);
    await Promise.all([plain.close(), hooked.close()]);
  });

  it('1000 refused calls with distinct method labels and a hook: each refused alike, no hook run, the pool still serves', async () => {
    const { plain, hooked, hooks } = pair({ hedge: { delay: { quantile: 0.9 } } });
    for (let i = 0; i < 1_000; i++) {
      const options = { method: `label-${i}`, timeout: -1 };
      const [a, b] = await Promise.all([settle(plain.run((c) => c, options)), settle(hooked.run((c) => c, options))]);
      expect(describe_(b)).toEqual(describe_(a));
    }
    expect(hooks.n).toBe(0);
    expect(await hooked.run((c) => c, { method: 'label-0' })).toBe('a');
    expect(hooks.n).toBe(1);
    await Promise.all([plain.close(), hooked.close()]);
  });
});

describe('the deadline with a hook that takes no time', () => {
  it('a valid deadline is checked twice but starts once: a call whose fn takes 99 of 100 ms resolves, with or without hooks', async () => {
    for (const withHook of [false, true]) {
      const clock = { t: 0 };
      const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
      if (withHook) pool.use({ name: 'h', around: (_s, next) => next() });
      pool.add('a');
      // The clock moves while the function runs: checkStillWanted/arm read it; a retry's wait would too.
      expect(await pool.run((c) => { clock.t += 99; return c; }, { deadline: 100 })).toBe('a');
      await pool.close();
    }
  });

  it('a deadline read by scope() does not make a valid call refused: deadline 1 with a hook runs', async () => {
    const clock = { t: 5 };
    const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
    pool.use({ name: 'h', around: (_s, next) => next() });
    pool.add('a');
    expect(await pool.run((c) => c, { deadline: 1 })).toBe('a');
    await pool.close();
  });
});
