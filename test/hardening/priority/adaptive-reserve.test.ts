// Attack: the reserve read from an adaptive cap as it moves.
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

/** Run `n` calls of 10 ms at once, `rounds` times: AIMD grows by 1 per `limit` successes at full use. */
async function grow(pool: ClientPool<Backend>, rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const cap = pool.members()[0]!.maxInFlight!;
    const calls = Array.from({ length: cap }, () => pool.run(() => new Promise((resolve) => setTimeout(resolve, 10))));
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(calls);
  }
}

/** How many low calls the pool takes at once before it sheds one; every one of them released after. */
async function lowCapacity(pool: ClientPool<Backend>): Promise<number> {
  const gate = deferred();
  const held: Promise<unknown>[] = [];
  for (;;) {
    const call = pool.run(() => gate.promise, { priority: 'low' });
    const shed = await Promise.race([call.then(() => false, (e: unknown) => (e as { code?: string }).code === 'ERR_SHED'), Promise.resolve(false).then(() => false)]);
    if (shed || pool.members()[0]!.inFlight === held.length) {
      void call.catch(() => undefined);
      break;
    }
    held.push(call);
    if (held.length > 100) break;
  }
  gate.resolve();
  await vi.advanceTimersByTimeAsync(1);
  await Promise.allSettled(held);
  return held.length;
}

describe('reserve on an adaptive cap', () => {
  it('low calls hold floor(cap x (1 - reserve)) of the cap as it grows', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, reserve: 0.5, maxWait: 10_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 2, min: 1, max: 10 } });
    expect(await lowCapacity(pool)).toBe(1);
    await grow(pool, 12);
    const cap = pool.members()[0]!.maxInFlight!;
    expect(cap).toBeGreaterThan(2);
    expect(await lowCapacity(pool)).toBe(Math.floor(cap * 0.5));
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('after a cut below the low calls in flight, a new low call is shed and a normal one waits, then is served', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, reserve: 0.25, maxWait: 10_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 4, min: 1, max: 10, backoff: 0.5 } });
    const gate = deferred();
    const lows = [0, 1, 2].map(() => pool.run(() => gate.promise, { priority: 'low' }));
    expect(pool.members()[0]!.inFlight).toBe(3);
    // A drop cuts 4 to 2.
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(pool.members()[0]!.maxInFlight).toBe(2);
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    const normal = pool.run(() => 'normal');
    gate.resolve();
    await vi.advanceTimersByTimeAsync(5);
    await Promise.all(lows);
    await expect(normal).resolves.toBe('normal');
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});

describe('an adaptive cap that rises', () => {
  it('serves as many waiting calls as the new cap has room for', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 10_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 2, min: 1, max: 10 } });
    const gateA = deferred();
    const gateB = deferred();
    const a = pool.run(() => gateA.promise);
    const b = pool.run(() => gateB.promise);
    const started: number[] = [];
    const gateW = deferred();
    const waiting = [1, 2, 3].map((i) => pool.run(() => (started.push(i), gateW.promise)));
    gateA.resolve();
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual([1]);
    // b's end is the second success at full use: the limit grows to 3, and two more calls start.
    gateB.resolve();
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.members()[0]!.maxInFlight).toBe(3);
    expect(started).toEqual([1, 2, 3]);
    gateW.resolve();
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([a, b, ...waiting]);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});
