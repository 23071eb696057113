import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, PoolClosedError } from '../../../src/index.js';
import { settle } from './helpers.js';

// "a closed pool or a bad fn is still reported first" (docs/call-pipeline.md): with valid options, the
// around hooks run before #run's closed and fn checks, so a hook that answers without next() (a cache)
// resolves a call on a closed pool, or a call whose fn is not a function. With invalid options the same
// call is refused with PoolClosedError / InvalidOptionError('fn'): the refusal depends on the options.

function cachingPool(): ClientPool<string> {
  const pool = new ClientPool<string>();
  pool.use({ name: 'cache', around: () => Promise.resolve('cached') });
  pool.add('a', { name: 'a' });
  return pool;
}

describe('a closed pool and a bad fn are reported whatever the around hooks do', () => {
  it('a call with a bad fn (42) and valid options is refused with InvalidOptionError about fn, not answered by a caching hook', async () => {
    const pool = cachingPool();
    const got = await settle(pool.run(42 as never, { method: 'get' }));
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    expect((got.value as InvalidOptionError).option).toBe('fn');
    await pool.close();
  });

  it('a call with a bad fn and no options is refused with InvalidOptionError about fn, not answered by a caching hook', async () => {
    const pool = cachingPool();
    const got = await settle(pool.run(undefined as never));
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a call on a closed pool with valid options is refused with PoolClosedError, not answered by a caching hook', async () => {
    const pool = cachingPool();
    await pool.close();
    const got = await settle(pool.run((c) => c, { method: 'get' }));
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(PoolClosedError);
  });

  it('control: a call on a closed pool with invalid options is refused with PoolClosedError (hooks skipped)', async () => {
    const pool = cachingPool();
    await pool.close();
    const got = await settle(pool.run((c) => c, { timeout: -1 }));
    expect(got.value).toBeInstanceOf(PoolClosedError);
  });

  it('control: a bad fn with invalid options is refused with InvalidOptionError about fn (hooks skipped)', async () => {
    const pool = cachingPool();
    const got = await settle(pool.run(42 as never, { timeout: -1 }));
    expect((got.value as InvalidOptionError).option).toBe('fn');
    await pool.close();
  });
});
