import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, PoolClosedError, RateLimitedError, TokenBucket } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

const dateClock = { now: () => Date.now() };

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets exactly burst + rate * t calls through: 20 + 100 over 10 s at rate 10, burst 20', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 20, clock });
    let passed = 0;
    for (clock.time = 0; clock.time <= 10_000; clock.time++) while (bucket.tryTake()) passed++;
    expect(passed).toBe(120);
  });

  it('never grants more than burst + rate * t (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 5 })), { maxLength: 200, size: 'max' }),
        (rate, burst, steps) => {
          const clock = new ManualClock();
          const bucket = new TokenBucket({ rate, burst, clock });
          let granted = 0;
          for (const [advance, n] of steps) {
            clock.advance(advance);
            if (n <= burst && bucket.tryTake(n)) granted += n;
            expect(granted).toBeLessThanOrEqual(burst + (rate * clock.time) / 1_000 + 1e-9);
          }
        },
      ),
    );
  });

  it('serves waiters in FIFO order, each when its tokens arrive, and leaves no timer when idle', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock: dateClock });
    expect(bucket.tryTake()).toBe(true);
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) => bucket.take(1, { maxWait: 1_000 }).then(() => order.push(i)));
    await vi.advanceTimersByTimeAsync(99);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a new caller does not jump the queue', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock: dateClock });
    bucket.tryTake();
    const first = bucket.take(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(bucket.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    await first;
  });

  it('fails at once with RateLimitedError when maxWait cannot be met, taking nothing', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock: dateClock });
    bucket.tryTake();
    const error = await bucket.take(1, { maxWait: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(1_000);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(bucket.tryTake()).toBe(true);
  });

  it('an aborted waiter takes nothing and does not hold up those behind it', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock: dateClock });
    bucket.tryTake();
    const controller = new AbortController();
    const aborted = bucket.take(1, { signal: controller.signal, maxWait: 5_000 }).catch((e: unknown) => e);
    let secondAt = -1;
    const second = bucket.take(1, { maxWait: 5_000 }).then(() => (secondAt = Date.now()));
    controller.abort('no longer needed');
    const error = await aborted;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('no longer needed');
    await vi.advanceTimersByTimeAsync(1_000);
    await second;
    expect(secondAt).toBe(1_000);
  });

  it('pause() drains the bucket and adds nothing for the pause', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 5, clock });
    bucket.pause(2_000);
    expect(bucket.tryTake()).toBe(false);
    clock.time = 2_099;
    expect(bucket.tryTake()).toBe(false);
    clock.time = 2_100;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.waitTime()).toBe(100);
  });

  it('close() rejects waiters and stops the timer', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock: dateClock });
    bucket.tryTake();
    const waiting = bucket.take(1).catch((e: unknown) => e);
    bucket.close();
    expect(await waiting).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new TokenBucket({ rate: -1 })).toThrow(/limit.rate must be a finite number > 0, got -1/);
    expect(() => new TokenBucket({ rate: Number.NaN })).toThrow(/got NaN/);
    expect(() => new TokenBucket({ rate: 1, burst: 0.5 })).toThrow(/limit.burst must be a finite number >= 1, got 0.5/);
    expect(() => new TokenBucket({ rate: 1, maxWait: -1 })).toThrow(/limit.maxWait must be a finite number >= 0/);
  });
});
