import { describe, expect, it, vi } from 'vitest';
import type { Call, RunOptions } from '../../../src/index.js';
import { inFlight, makePool, never, settled, type Client, captureUnhandled } from './harness.js';

// The first call with `minHeight` puts a stage before the pick: the pipeline is recomposed and a first
// attempt's failure no longer reaches retries through the pick stage but through a then(). Calls with
// retries in flight across that switch must behave as calls made wholly before or wholly after it.

const unhandled = captureUnhandled({ fakeTimers: true });

const retry = { attempts: 3, backoff: { initial: 20, max: 20, jitter: 'none' as const } };
const failLater = (ms: number) => (): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error('late boom')), ms));

type When = 'before' | 'during-attempt' | 'during-backoff' | 'never';

interface Seen {
  result: unknown;
  tried: string[];
  left: number;
  outcomes: number;
  unhandled: number;
}

async function retriedCall(when: When, options: RunOptions<Client>, fn: (client: Client, call: Call<Client>) => Promise<unknown>): Promise<Seen> {
  const { pool, seen } = makePool('pick-first', ['a', 'b', 'c']);
  const flip = (): Promise<unknown> => settled(pool.run(() => Promise.resolve('fresh'), { minHeight: 1, maxWait: 0, method: 'flip' }));
  if (when === 'before') await flip();
  const tried: string[] = [];
  const call = settled(
    pool.run(
      (client, c) => {
        tried.push(client.name);
        return fn(client, c);
      },
      { retry, ...options },
    ),
  );
  await vi.advanceTimersByTimeAsync(5);
  if (when === 'during-attempt') await flip();
  await vi.advanceTimersByTimeAsync(10);
  if (when === 'during-backoff') await flip();
  await vi.advanceTimersByTimeAsync(1_000);
  const result = await call;
  const left = inFlight(pool);
  await pool.close();
  const own = seen.outcomes.length;
  return { result, tried, left, outcomes: own, unhandled: unhandled.length };
}

const cases: readonly { name: string; options: RunOptions<Client>; fn: (client: Client, call: Call<Client>) => Promise<unknown> }[] = [
  { name: 'fails on a, then succeeds', options: {}, fn: (client) => (client.name === 'a' ? failLater(10)() : Promise.resolve('ok')) },
  { name: 'fails on every client', options: {}, fn: failLater(10) },
  { name: 'times out on every client', options: { timeout: 10 }, fn: never },
  { name: 'fails on a, timed, then succeeds', options: { timeout: 500 }, fn: (client) => (client.name === 'a' ? failLater(10)() : Promise.resolve('ok')) },
];

describe('a call with retries in flight while the first minHeight call recomposes the pipeline', () => {
  for (const c of cases) {
    it(`${c.name}: the same answer, attempts and outcomes whenever the switch comes`, async () => {
      const results = new Map<When, Seen>();
      for (const when of ['never', 'before', 'during-attempt', 'during-backoff'] as const) results.set(when, await retriedCall(when, c.options, c.fn));
      const never_ = results.get('never')!;
      expect(never_.left).toBe(0);
      expect(never_.unhandled).toBe(0);
      for (const when of ['before', 'during-attempt', 'during-backoff'] as const) {
        const r = results.get(when)!;
        expect({ result: r.result, tried: r.tried, left: r.left, unhandled: r.unhandled }).toEqual({ result: never_.result, tried: never_.tried, left: 0, unhandled: 0 });
      }
    });
  }

  it('a first attempt waiting for a client when the switch comes is retried elsewhere once it fails', async () => {
    const { pool } = makePool('pick-first', ['a']);
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    await pool.remove('a');
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const hogs = [settled(pool.run(failLater(30), { method: 'hog' })), settled(pool.run(failLater(30), { method: 'hog' }))];
    const tried: string[] = [];
    const call = settled(
      pool.run(
        (client) => {
          tried.push(client.name);
          return tried.length === 1 ? Promise.reject(new Error('first boom')) : Promise.resolve('second ok');
        },
        { retry, maxWait: 5_000 },
      ),
    );
    await vi.advanceTimersByTimeAsync(5);
    await settled(pool.run(() => Promise.resolve('fresh'), { minHeight: 1, maxWait: 0, method: 'flip' }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await call).toEqual({ value: 'second ok' });
    expect(tried).toHaveLength(2);
    expect(tried[0]).not.toBe(tried[1]);
    await Promise.all(hogs);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(unhandled).toEqual([]);
  });
});
