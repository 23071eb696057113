import { describe, expect, it, vi } from 'vitest';
import type { Call } from '../../../src/index.js';
import { inFlight, makePool, never, settled, type Client, captureUnhandled } from './harness.js';

// Attempts of a hedged call, and retries after a hedge, keep their failure's Outcome (what the default
// retry rule and the caller-abort check read) in the object made on demand: the retry rule must still
// see each failure, and a caller's abort must still end the call without a retry.

const unhandled = captureUnhandled({ fakeTimers: true });

const backoff = { initial: 10, max: 10, jitter: 'none' as const };
const failAfter = (ms: number) => (): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error('slow boom')), ms));

async function drive(call: Promise<unknown>): Promise<unknown> {
  let isDone = false;
  const done = call.finally(() => (isDone = true));
  for (let i = 0; i < 100 && !isDone; i++) await vi.advanceTimersByTimeAsync(10);
  return done;
}

describe('retries after a hedge', () => {
  it('the default retry rule retries once the hedged attempts all failed, on a client none of them tried', async () => {
    const { pool, seen } = makePool('pick-first', ['a', 'b', 'c']);
    const tried: string[] = [];
    const result = await drive(
      settled(
        pool.run(
          (client, call: Call<Client>) => {
            tried.push(`${client.name}:${call.kind}`);
            return call.attempt <= 2 ? failAfter(20)() : Promise.resolve(`ok from ${client.name}`);
          },
          { hedge: { delay: 5 }, retry: { attempts: 3, backoff } },
        ),
      ),
    );
    expect(tried.map((t) => t.split(':')[1])).toEqual(['first', 'hedge', 'retry']);
    expect(new Set(tried.map((t) => t.split(':')[0])).size).toBe(3);
    expect(result).toMatchObject({ value: expect.stringMatching(/^ok from/) as unknown });
    expect(seen.outcomes.filter((o) => o.endsWith('failure'))).toHaveLength(2);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(unhandled).toEqual([]);
  });

  it('retryOn reads every failure of a hedged call, and its no ends the call with that failure', async () => {
    const { pool } = makePool('pick-first', ['a', 'b', 'c']);
    const read: string[] = [];
    const result = await drive(
      settled(
        pool.run(failAfter(20), {
          hedge: { delay: 5 },
          retry: {
            attempts: 3,
            backoff,
            retryOn: (error, attempt) => {
              read.push(`${(error as Error & { code?: string }).code ?? '?'}@${attempt}`);
              return false;
            },
          },
        }),
      ),
    );
    expect(result).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(read).toHaveLength(1);
    expect(read[0]).toMatch(/^ERR_CLIENT_CALL@/);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it('the caller aborting a hedged call with retries ends it with ERR_ABORTED and starts no retry', async () => {
    const { pool } = makePool('pick-first', ['a', 'b', 'c']);
    const controller = new AbortController();
    const tried: string[] = [];
    const call = settled(
      pool.run(
        (client) => {
          tried.push(client.name);
          return never();
        },
        { hedge: { delay: 5 }, retry: { attempts: 3, backoff }, signal: controller.signal },
      ),
    );
    await vi.advanceTimersByTimeAsync(20);
    controller.abort('left');
    const result = await drive(call);
    expect(result).toMatchObject({ code: 'ERR_ABORTED', cause: 'left' });
    expect(tried).toHaveLength(2);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(unhandled).toEqual([]);
  });

  it('a quorum read whose attempts fail or hang answers its caller and gives every client back', async () => {
    const { pool } = makePool('pick-first', ['a', 'b', 'c']);
    const result = await drive(settled(pool.quorum((client) => (client.name === 'a' ? Promise.reject(new Error('boom')) : never()), { of: 3, timeout: 50 })));
    expect(result).toHaveProperty('code');
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(unhandled).toEqual([]);
  });
});
