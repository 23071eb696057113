// Attack: calls waiting for tokens for their cost: aborted, past their deadline, FIFO order after an abort.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { vi } from 'vitest';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

useFakeTime();

function oneKey(maxWait = 60_000): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock: dateClock, maxWait });
  pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
  return pool;
}

describe('a call waiting for its cost', () => {
  it('aborted, it takes nothing and the small call behind it is served at once', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 9_500 } });
    const controller = new AbortController();
    const big = pool.run(() => 'big', { cost: { tokens: 5_000 }, signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    let isSmallServed = false;
    const small = pool.run(() => (isSmallServed = true), { cost: { tokens: 100 } });
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    expect(await big).toMatchObject({ code: 'ERR_ABORTED' });
    // 500 + refill: the small call fits now that the big one left the line.
    await vi.advanceTimersByTimeAsync(1);
    expect(isSmallServed).toBe(true);
    await small;
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('past its deadline, it fails with ERR_DEADLINE_EXCEEDED and takes nothing', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 10_000 } });
    const call = pool.run(() => 'late', { cost: { tokens: 5_000 }, deadline: 1_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await call;
    expect(error).toMatchObject({ code: expect.stringMatching(/ERR_DEADLINE_EXCEEDED|ERR_RATE_LIMITED/) });
    await vi.advanceTimersByTimeAsync(30_000);
    // 31 s of refill at 10 000 a minute: 5 166 tokens, none of them taken by the call that gave up.
    expect(Math.round(pool.members()[0]!.quota!['tokens']!)).toBe(5_167);
  });

  it('close() while many calls wait for cost tokens ends every one; none hangs', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 10_000 } });
    const calls = Array.from({ length: 50 }, (_, i) => pool.run(() => i, { cost: { tokens: 100 + i } }).catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(10);
    const closing = pool.close();
    await vi.advanceTimersByTimeAsync(10);
    const results = await Promise.all(calls);
    await closing;
    expect(results.every((r) => (r as { code?: string }).code === 'ERR_POOL_CLOSED')).toBe(true);
  });

  it('a call waiting for a pool-wide cost is aborted without taking from the pool\'s other limits', async () => {
    const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 60_000, limit: { requests: { rate: 10 }, tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'k' });
    await pool.run(() => 'a', { cost: { tokens: 1_000 } });
    const controller = new AbortController();
    const call = pool.run(() => 'b', { cost: { tokens: 500 }, signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    expect(await call).toMatchObject({ code: 'ERR_ABORTED' });
    // 9 requests left after the first call, plus 1 s of refill: the aborted call gave its request back.
    let passed = 0;
    for (let i = 0; i < 10; i++) if (await pool.run(() => true, { cost: { tokens: 0 }, maxWait: 0 }).catch(() => false)) passed++;
    expect(passed).toBe(10);
  });
});
