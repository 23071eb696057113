// An attempt's life: it runs only while its call is still wanted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type Limiter } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Fake {
  readonly id: string;
}
const clock = { now: () => Date.now() };

describe('an attempt', () => {
  it('an attempt that waited on a shared limit while the call ended never runs', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const slowLimit: Limiter = { take: () => new Promise((resolve) => setTimeout(resolve, 100)) };
    const pool = new ClientPool<Fake>({ clock, hedge: { delay: 10 }, retryBudget: false });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b', limit: slowLimit });
    const invoked: string[] = [];
    const call = pool.run((client) => {
      invoked.push(client.id);
      return new Promise((resolve) => setTimeout(() => resolve(client.id), 30));
    });
    await vi.advanceTimersByTimeAsync(200);
    await expect(call).resolves.toBe('a');
    expect(invoked).toEqual(['a']);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.remove('b');
  });
});
