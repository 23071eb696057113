import { describe, expect, it, vi } from 'vitest';
import type { RunOptions } from '../../../src/index.js';
import { inFlight, makePool, never, settled, type Client, captureUnhandled } from './harness.js';

// destroy() walks the pool's list of tracked attempts and ends each one. The links of that list moved
// (an on-demand object; on the attempt's race when it has one): whatever ends other attempts while the
// walk is under way, every attempt in flight must be ended, and every caller answered.

const unhandled = captureUnhandled({ fakeTimers: true });

/** Until every promise settled, or a bound of fake time. */
async function settleAll(calls: Promise<unknown>[]): Promise<unknown[]> {
  let isDone = false;
  const all = Promise.all(calls).finally(() => (isDone = true));
  for (let i = 0; i < 100 && !isDone; i++) await vi.advanceTimersByTimeAsync(100);
  expect(isDone).toBe(true);
  return all;
}

const kinds: readonly { name: string; options: () => RunOptions<Client> }[] = [
  { name: 'a timeout', options: () => ({ timeout: 60_000 }) },
  { name: 'a caller signal', options: () => ({ signal: new AbortController().signal }) },
  { name: 'a deadline', options: () => ({ deadline: 60_000 }) },
  { name: 'a hedge', options: () => ({ hedge: { delay: 10 } }) },
  { name: 'retries and a timeout', options: () => ({ retry: { attempts: 3 }, timeout: 60_000 }) },
  { name: 'retries, observed only', options: () => ({ retry: { attempts: 3 } }) },
];

describe('destroy() with many tracked attempts in flight', () => {
  it('ends every attempt of every kind and answers every caller with ERR_POOL_CLOSED', async () => {
    const { pool, seen } = makePool('pick-first', ['a', 'b', 'c', 'd']);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const kind = kinds[i % kinds.length]!;
      calls.push(settled(pool.run((_client, call) => new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason))), kind.options())));
    }
    // Hedges start.
    await vi.advanceTimersByTimeAsync(20);
    const started = seen.outcomes.length;
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll(calls);
    for (const result of results) expect(result).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(inFlight(pool)).toBe(0);
    expect(seen.outcomes.length).toBeGreaterThan(started);
    expect(unhandled).toEqual([]);
  });

  it('ends every attempt when an observer, hearing of one ended, aborts the next call in the list', async () => {
    const controllers: AbortController[] = [];
    const { pool } = makePool('pick-first', ['a']);
    let isDestroying = false;
    pool.use({
      name: 'aborts-another',
      onOutcome() {
        // While destroy() walks the list: the newest call is ended first; abort the one below it.
        if (isDestroying) for (const c of controllers) c.abort('neighbour');
      },
    });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      // The function ignores its signal: only the pool can end the attempt.
      const options: RunOptions<Client> = i < 2 ? { signal: controller.signal } : { timeout: 60_000 };
      calls.push(settled(pool.run(never, options)));
    }
    await vi.advanceTimersByTimeAsync(1);
    isDestroying = true;
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll(calls);
    for (const result of results) expect(result).toHaveProperty('code');
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('ends every attempt when aborting one caller ends the attempt right below the one being ended', async () => {
    const { pool } = makePool('pick-first', ['a']);
    const inner = new AbortController();
    let isDestroying = false;
    pool.use({
      name: 'aborts-neighbour',
      onOutcome(call) {
        if (isDestroying && call.options.method === 'top') inner.abort('neighbour');
      },
    });
    // Oldest first: the list is walked newest first, so 'top' is ended first, 'middle' is next.
    const bottom = [settled(pool.run(never, { timeout: 60_000, method: 'bottom' })), settled(pool.run(never, { timeout: 60_000, method: 'bottom' }))];
    const middle = settled(pool.run(never, { signal: inner.signal, method: 'middle' }));
    const top = settled(pool.run(never, { timeout: 60_000, method: 'top' }));
    await vi.advanceTimersByTimeAsync(1);
    isDestroying = true;
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll([top, middle, ...bottom]);
    expect(results[0]).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(results[1]).toHaveProperty('code');
    expect(results[2]).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(results[3]).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(inFlight(pool)).toBe(0);
  });

  it('hedged calls, quorum reads and retries after a hedge leave nothing in flight after destroy()', async () => {
    const { pool } = makePool('pick-first', ['a', 'b', 'c', 'd', 'e']);
    const hedged = settled(pool.run(never, { hedge: { delay: 5, maxHedges: 2 }, timeout: 60_000 }));
    const quorum = settled(pool.quorum(never, { of: 3, timeout: 60_000 }));
    const retriedAfterHedge = settled(
      pool.run((client) => (client.name === 'a' ? Promise.reject(new Error('boom')) : never()), { hedge: { delay: 5 }, retry: { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' } }, timeout: 60_000 }),
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(inFlight(pool)).toBeGreaterThan(3);
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll([hedged, quorum, retriedAfterHedge]);
    for (const result of results) expect(result).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
  });
});

describe('attempts leaving the middle of the tracked list', () => {
  it('calls ended out of order (timeouts in the middle) leave destroy() able to end the rest', async () => {
    const { pool } = makePool('pick-first', ['a', 'b']);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) calls.push(settled(pool.run(never, { timeout: i % 3 === 1 ? 10 : 60_000 })));
    await vi.advanceTimersByTimeAsync(20);
    expect(inFlight(pool)).toBe(20);
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll(calls);
    results.forEach((result, i) => expect(result).toMatchObject({ code: i % 3 === 1 ? 'ERR_TIMEOUT' : 'ERR_POOL_CLOSED' }));
    expect(inFlight(pool)).toBe(0);
  });

  it('a plain observed call between raced ones is ended by destroy() too (links held on the attempt, not its race)', async () => {
    const { pool } = makePool('pick-first', ['a']);
    const aborted: boolean[] = [];
    const watch = (_client: Client, call: { signal: AbortSignal }): Promise<never> => new Promise((_, reject) => call.signal.addEventListener('abort', () => (aborted.push(true), reject(call.signal.reason))));
    const calls = [settled(pool.run(watch, { timeout: 60_000 })), settled(pool.run(watch)), settled(pool.run(watch, { timeout: 60_000 })), settled(pool.run(watch)), settled(pool.run(watch, { retry: { attempts: 2 } }))];
    await vi.advanceTimersByTimeAsync(1);
    await pool.destroy(new Error('shutdown'));
    const results = await settleAll(calls);
    for (const result of results) expect(result).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(aborted).toHaveLength(5);
    expect(inFlight(pool)).toBe(0);
  });
});
