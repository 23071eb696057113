import { describe, expect, it } from 'vitest';
import { ClientPool, type AddOptions } from '../../src/index.js';
import { closeWorkingPools, expectInvalid, fake, thrownBy, workingPool, type Fake } from '../helpers/bad-input.js';

closeWorkingPools();

describe('pool.add(client, options) with bad input', () => {
  const bad: [string, (pool: ClientPool<Fake>) => unknown, string, unknown][] = [
    ['options a number', (pool) => pool.add(fake('x'), 5 as unknown as AddOptions<Fake>), 'add options', 5],
    ['options null', (pool) => pool.add(fake('x'), null as unknown as AddOptions<Fake>), 'add options', null],
    ['limit a number', (pool) => pool.add(fake('x'), { limit: 5 as never }), 'limit', 5],
    ['limit rate 0', (pool) => pool.add(fake('x'), { limit: { rate: 0 } }), 'limit.rate', 0],
    ['limit burst 0', (pool) => pool.add(fake('x'), { limit: { rate: 1, burst: 0 } }), 'limit.burst', 0],
    ['duplicate name', (pool) => pool.add(fake('x'), { name: 'ok' }), 'name', 'ok'],
  ];
  it.each(bad.map(([label, act, option, value]) => [label, option, act, value] as const))('%s: InvalidOptionError naming %s, and the pool keeps working', async (_label, option, act, value) => {
    const { pool, stillWorks } = workingPool();
    expectInvalid(thrownBy(() => act(pool)), option, value);
    expect(pool.size).toBe(1);
    await stillWorks();
  });

  it('the same client twice: InvalidOptionError naming client, and the pool keeps working', async () => {
    const { pool, stillWorks } = workingPool();
    const client = fake('dup');
    pool.add(client, { name: 'dup' });
    expectInvalid(thrownBy(() => pool.add(client, { name: 'dup2' })), 'client');
    await pool.remove('dup');
    await stillWorks();
  });
});
