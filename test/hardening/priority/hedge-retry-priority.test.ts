// Attack: retries and hedges of low and high calls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('hedges and retries of low calls', () => {
  it('a low call whose hedge is shed still gets its first attempt\'s value', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, reserve: 0.5, maxWait: 0, hedge: { delay: 10 } });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 2 });
    const call = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('first'), 50)), { priority: 'low' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await call).toBe('first');
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('a low call whose retry is shed fails with the first attempt\'s error or ERR_SHED, and leaks nothing', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, reserve: 0.5, maxWait: 0, retry: { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' } } });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 2 });
    pool.add({ id: 'b' }, { name: 'b', maxInFlight: 2 });
    const gate = deferred();
    // Every low slot of b taken: a retry of a low call on a cannot go to b.
    const heldB = pool.run(() => gate.promise, { priority: 'low', strategy: 'round-robin' });
    const heldA = pool.run(() => gate.promise, { priority: 'low' });
    const call = pool.run(() => Promise.reject(new Error('boom')), { priority: 'low' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const error = (await call) as { code?: string; message?: string };
    expect(error).toBeDefined();
    gate.resolve();
    await Promise.all([heldA, heldB]);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });

  it('a high call\'s retry waiting behind normal calls in line is served first', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 10_000, retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    const order: string[] = [];
    let failed = false;
    const high = pool.run(async () => {
      if (!failed) {
        failed = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('once');
      }
      order.push('high-retry');
      return 'high';
    }, { priority: 'high' });
    await vi.advanceTimersByTimeAsync(1);
    const normals = [1, 2, 3].map((i) => pool.run(async () => {
      order.push(`normal-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }));
    await vi.advanceTimersByTimeAsync(100);
    await expect(high).resolves.toBe('high');
    await Promise.all(normals);
    // The retry came back after its backoff with normals in line: it goes ahead of those still waiting.
    expect(order.indexOf('high-retry')).toBeLessThan(order.indexOf('normal-3'));
  });
});
