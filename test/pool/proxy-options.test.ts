import { describe, expect, it } from 'vitest';
import {  } from '../../src/index.js';
import { closeWorkingPools, expectInvalid, thrownBy, workingPool } from '../helpers/bad-input.js';

closeWorkingPools();

describe('pool.proxy() with bad input', () => {
  it.each([
    ['options a number', 'proxy options', 5, 5],
    ['methods a number', 'proxy options.methods', { methods: 5 }, 5],
    ['label unknown', 'proxy options.label', { label: 'kebab' }, 'kebab'],
    ['label a number', 'proxy options.label', { label: 5 }, 5],
  ] as const)('%s: InvalidOptionError naming %s', async (_label, option, options, value) => {
    const { pool, stillWorks } = workingPool();
    expectInvalid(
      thrownBy(() => pool.proxy(options as never)),
      option,
      value,
    );
    await stillWorks();
  });

  it('reading a property that is not a method throws InvalidOptionError; assigning one too; the pool keeps working', async () => {
    const { pool } = workingPool();
    const proxy = pool.proxy();
    expectInvalid(thrownBy(() => (proxy as unknown as Record<string, unknown>)['label']), 'proxy.label', 'client ok');
    expectInvalid(
      thrownBy(() => {
        (proxy as unknown as Record<string, unknown>)['ping'] = 1;
      }),
      'proxy.ping',
    );
    await expect(proxy.ping()).resolves.toBe('pong ok');
    expect(pool.members()[0]).toMatchObject({ successes: 1, failures: 0 });
  });

  it('a bad per-method option throws InvalidOptionError at pool.proxy(), naming the method, and the pool keeps working', async () => {
    const { pool, stillWorks } = workingPool();
    expectInvalid(
      thrownBy(() => pool.proxy({ methods: { ping: { timeout: 0 } } })),
      'proxy options.methods.ping.timeout',
      0,
    );
    await stillWorks();
  });
});
