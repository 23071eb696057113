import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type PoolOptions } from '../../../src/index.js';
import { describe_, settle } from './helpers.js';

// A `cost` larger than the burst of a limit is refused with InvalidOptionError (src/limit/quota.ts take(),
// src/roster.ts's unavailable()) by the pipeline's limits, which around hooks wrap (docs/call-pipeline.md):
// a refusal of the limits in place, as ERR_NO_CLIENTS is, not of the options' values (CallPlanner.checked
// checks the amount is well formed). A hook that calls next() passes the refusal on as it is.

type Setup = [string, PoolOptions<string>, Parameters<ClientPool<string>['add']>[1]];
const SETUPS: Setup[] = [
  ['a pool-wide tokens limit (burst 10)', { limit: { tokens: { rate: 10, burst: 10 } } }, {}],
  ["a client's own tokens limit (burst 10)", {}, { limit: { tokens: { rate: 10, burst: 10 } } }],
];

describe.each(SETUPS)('cost { tokens: 100 } over %s', (_name, poolOptions, addOptions) => {
  function make(around?: () => Promise<unknown>): { pool: ClientPool<string>; hooks: { n: number } } {
    const pool = new ClientPool<string>(poolOptions);
    const hooks = { n: 0 };
    if (around !== undefined) pool.use({ name: 'around', around: (_s, next) => { hooks.n++; return around === undefined ? next() : around().then(() => next()); } });
    pool.add('a', { name: 'a', ...addOptions });
    return { pool, hooks };
  }

  it('control: without hooks the call is refused with InvalidOptionError naming cost.tokens', async () => {
    const { pool } = make();
    const got = await settle(pool.run((c) => c, { cost: { tokens: 100 } }));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    expect((got.value as InvalidOptionError).option).toBe('cost.tokens');
    await pool.close();
  });

  it('an around hook that calls next() sees the call, and the caller gets the same InvalidOptionError as without hooks', async () => {
    const plain = make();
    const hooked = make(() => Promise.resolve());
    const expected = await settle(plain.pool.run((c) => c, { cost: { tokens: 100 } }));
    const got = await settle(hooked.pool.run((c) => c, { cost: { tokens: 100 } }));
    expect(describe_(got)).toEqual(describe_(expected));
    expect(hooked.hooks.n).toBe(1);
    await Promise.all([plain.pool.close(), hooked.pool.close()]);
  });

  it('control: a cost within the burst runs the hook once and the call', async () => {
    const { pool, hooks } = make(() => Promise.resolve());
    expect(await pool.run((c) => c, { cost: { tokens: 5 } })).toBe('a');
    expect(hooks.n).toBe(1);
    await pool.close();
  });
});
