// Attack: a low call and a pool-wide limit that answers only asynchronously (a Limiter without tryTake).
import { describe, expect, it } from 'vitest';
import { ClientPool, type Limiter } from '../../../src/index.js';

interface Backend {
  readonly id: string;
}

describe('a pool-wide shared limiter and low calls', () => {
  it('a low call on an idle pool whose limiter always grants (no tryTake) is served, not shed', async () => {
    let takes = 0;
    const limiter: Limiter = {
      take: () => {
        takes++;
        return Promise.resolve();
      },
    };
    const pool = new ClientPool<Backend>({ limit: limiter, maxWait: 1_000 });
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'normal')).resolves.toBe('normal');
    await expect(pool.run(() => 'low', { priority: 'low' })).resolves.toBe('low');
    expect(takes).toBe(2);
  });

  it('a low call on an idle pool whose limiter grants through tryTake is served', async () => {
    const limiter: Limiter = { take: () => Promise.resolve(), tryTake: () => true };
    const pool = new ClientPool<Backend>({ limit: limiter, maxWait: 1_000 });
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'low', { priority: 'low' })).resolves.toBe('low');
  });
});
