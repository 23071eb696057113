import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

type Client = { name: string };
const never = (): Promise<never> => new Promise(() => {});

function makePool(): ClientPool<Client> {
  const pool = new ClientPool<Client>({ retryBudget: false, breaker: false, strategy: 'round-robin' });
  for (const name of ['a', 'b', 'c']) pool.add({ name }, { name });
  return pool;
}

// One timer for every timeout, deadline, hedge delay and backoff of the pool, with the list of the last
// delay cached: delays come and go (a list is deleted once its last entry fired) and must still expire on time.
describe('the pool\'s one deadline timer', () => {
  it('a timeout that fired, then the same timeout again (its list deleted meanwhile), fires on time each round', async () => {
    const pool = makePool();
    for (let round = 0; round < 4; round++) {
      const ended: number[] = [];
      const start = Date.now();
      const call = pool.run(never, { timeout: 100 }).catch((e: unknown) => {
        ended.push(Date.now() - start);
        return e;
      });
      await vi.advanceTimersByTimeAsync(99);
      expect(ended).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(await call).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 100 });
      expect(ended).toEqual([100]);
    }
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('2 000 calls with as many different timeouts, added in a shuffled order, each end at its own timeout on one timer', async () => {
    const pool = makePool();
    const timeouts = Array.from({ length: 2_000 }, (_, i) => 1 + ((i * 7_919) % 2_000));
    const endedAt = new Map<number, number>();
    const start = Date.now();
    const calls = timeouts.map((timeout) =>
      pool.run(never, { timeout }).catch((e: unknown) => {
        endedAt.set(timeout, Date.now() - start);
        return e;
      }),
    );
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2_001);
    const errors = await Promise.all(calls);
    expect(errors.every((e, i) => (e as { timeoutMs?: number }).timeoutMs === timeouts[i])).toBe(true);
    expect(timeouts.filter((t) => endedAt.get(t) !== t)).toEqual([]);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries\' backoffs, hedge delays, timeouts and deadlines interleaved on the one timer each end their own call', async () => {
    const pool = makePool();
    const calls = Array.from({ length: 60 }, (_, i) => {
      const kind = i % 4;
      let attempts = 0;
      const later = (ms: number, value: string): Promise<string> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
      if (kind === 0) {
        // Fails at once, retried after a backoff of 10 + i ms, answers 5 ms later.
        return pool.run(() => (++attempts === 1 ? Promise.reject(new Error('down')) : later(5, `retried ${i}`)), { timeout: 1_000, retry: { attempts: 2, backoff: { initial: 10 + i, max: 10 + i, jitter: 'none' } } });
      }
      if (kind === 1) {
        // The first attempt hangs; the hedge goes after 20 + i ms and answers.
        return pool.run(() => (++attempts === 1 ? never() : later(3, `hedged ${i}`)), { timeout: 5_000, hedge: { delay: 20 + i } });
      }
      if (kind === 2) return pool.run(never, { timeout: 30 + i }).catch((e: unknown) => `timeout ${(e as { timeoutMs: number }).timeoutMs}`);
      return pool.run(never, { deadline: 40 + i }).catch((e: unknown) => `deadline ${(e as { deadlineMs: number }).deadlineMs}`);
    });
    await vi.advanceTimersByTimeAsync(2_000);
    const expected = Array.from({ length: 60 }, (_, i) => [`retried ${i}`, `hedged ${i}`, `timeout ${30 + i}`, `deadline ${40 + i}`][i % 4]);
    expect(await Promise.all(calls)).toEqual(expected);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
