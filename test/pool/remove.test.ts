import { describe, expect, it } from 'vitest';
import { hasErrorCode, UnknownClientError } from '../../src/index.js';
import { closeWorkingPools, fake, workingPool } from '../helpers/bad-input.js';

closeWorkingPools();

describe('pool.remove(client) with bad input', () => {
  it.each([
    ['an unknown name', 'nope'],
    ['an unknown reference', fake('ok')],
    ['a number', 42],
    ['undefined', undefined],
  ] as const)('%s: rejects UnknownClientError (no throw), and the pool keeps working', async (_label, client) => {
    const { pool, stillWorks } = workingPool();
    let removal: Promise<void> | undefined;
    expect(() => (removal = pool.remove(client as unknown as string))).not.toThrow();
    const error = await removal!.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownClientError);
    expect(hasErrorCode(error, 'ERR_UNKNOWN_CLIENT')).toBe(true);
    await stillWorks();
  });

  it('removing the same client twice: the second rejects UnknownClientError', async () => {
    const { pool, stillWorks } = workingPool();
    pool.add(fake('x'), { name: 'x' });
    await pool.remove('x');
    await expect(pool.remove('x')).rejects.toBeInstanceOf(UnknownClientError);
    await stillWorks();
  });
});
