import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, InvalidOptionError, PoolClosedError, RateLimitedError, TokenBucket } from '../../src/index.js';
import { isTokenBucket } from '../../src/limit/token-bucket.js';
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

  it('a new caller does not jump the queue: the token that comes goes to the first waiter', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
    expect(bucket.tryTake()).toBe(true);
    const order: string[] = [];
    const first = bucket.take(1).then(() => order.push('first'));
    // The first waiter's token is there, but its timer has not fired yet: a newcomer must not take it.
    clock.time = 100;
    expect(bucket.tryTake()).toBe(false);
    const second = bucket.take(1).then(() => order.push('second'));
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual(['first']);
    clock.time = 200;
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
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

  it('pause() refuses at once, with their wait, the waiters it pushes past their deadline', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock: dateClock });
    bucket.tryTake();
    let servedAt = -1;
    const patient = bucket.take(1, { maxWait: 5_000 }).then(() => (servedAt = Date.now()));
    const hurried = bucket.take(1, { maxWait: 500 }).catch((e: unknown) => e);
    bucket.pause(1_000);
    const error = await hurried;
    expect(error).toBeInstanceOf(RateLimitedError);
    // Empty for the pause, then a token per 100 ms: the first queued gets one at 1 100, the second at 1 200.
    expect((error as RateLimitedError).retryAfterMs).toBe(1_200);
    await vi.advanceTimersByTimeAsync(1_100);
    await patient;
    expect(servedAt).toBe(1_100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a waiter behind one that pause() refuses is served when its own tokens come, not when the refused one's would have", async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 3, clock: dateClock });
    expect(bucket.tryTake(3)).toBe(true);
    const large = bucket.take(3, { maxWait: 400 }).catch((e: unknown) => e);
    let servedAt = -1;
    const small = bucket.take(1, { maxWait: 5_000 }).then(() => (servedAt = Date.now()));
    // Empty until 200, then a token per 100 ms: three tokens by 500 miss the first waiter's deadline (400).
    bucket.pause(200);
    expect(await large).toBeInstanceOf(RateLimitedError);
    await vi.advanceTimersByTimeAsync(1_000);
    await small;
    expect(servedAt).toBe(300);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a clock stepped back an hour does not lock the bucket out: tokens come at the rate from the step on', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 5, clock });
    clock.time = 3_600_000;
    let taken = 0;
    while (bucket.tryTake()) taken++;
    expect(taken).toBe(5);
    clock.time = 0; // NTP, or a VM restored from a snapshot
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.waitTime()).toBe(100);
    clock.time = 100;
    expect(bucket.tryTake()).toBe(true);
    clock.time = 600;
    expect(bucket.available).toBe(5);
  });

  it('a waiter queued when the clock steps back an hour is served about when its token comes, not an hour later', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
    bucket.tryTake();
    let servedAt = -1;
    const waiting = bucket.take(1, { maxWait: 1_000 }).then(() => (servedAt = Date.now()));
    await vi.advanceTimersByTimeAsync(50);
    offset = -3_600_000;
    await vi.advanceTimersByTimeAsync(150);
    await waiting;
    // Due at 100. The bucket cannot tell when the clock stepped, only that it did when it next reads it
    // (at 100): the time since its last reading (at 0) is lost, so the token comes 100 ms late.
    expect(servedAt).toBe(200);
  });

  it('takes, tryTakes, aborts, pauses and time passing never grant more than burst + rate * window, in any window, and serve takes FIFO (property)', async () => {
    type Command =
      | { readonly kind: 'take'; readonly n: number; readonly maxWait: number; readonly abortable: boolean }
      | { readonly kind: 'tryTake'; readonly n: number }
      | { readonly kind: 'abort'; readonly index: number }
      | { readonly kind: 'pause'; readonly ms: number }
      | { readonly kind: 'advance'; readonly ms: number };
    const command: fc.Arbitrary<Command> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 3 }), maxWait: fc.integer({ min: 0, max: 3_000 }), abortable: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('tryTake' as const), n: fc.integer({ min: 1, max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 1_000 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 500 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 3, max: 10 }), fc.array(command, { maxLength: 80 }), async (rate, burst, commands) => {
        vi.setSystemTime(0);
        const bucket = new TokenBucket({ rate, burst, clock: dateClock });
        const grants: { readonly at: number; readonly n: number }[] = [];
        const servedTakes: number[] = [];
        const controllers: AbortController[] = [];
        const settled: Promise<unknown>[] = [];
        let takes = 0;
        for (const c of commands) {
          switch (c.kind) {
            case 'take': {
              const id = takes++;
              const controller = c.abortable ? new AbortController() : undefined;
              if (controller !== undefined) controllers.push(controller);
              const options = controller === undefined ? { maxWait: c.maxWait } : { maxWait: c.maxWait, signal: controller.signal };
              settled.push(
                bucket.take(c.n, options).then(
                  () => {
                    grants.push({ at: Date.now(), n: c.n });
                    servedTakes.push(id);
                  },
                  () => undefined,
                ),
              );
              break;
            }
            case 'tryTake':
              if (bucket.tryTake(c.n)) grants.push({ at: Date.now(), n: c.n });
              break;
            case 'abort':
              controllers[c.index % Math.max(1, controllers.length)]?.abort();
              break;
            case 'pause':
              bucket.pause(c.ms);
              break;
            case 'advance':
              await vi.advanceTimersByTimeAsync(c.ms);
              break;
          }
          await Promise.resolve();
        }
        await vi.advanceTimersByTimeAsync(10_000);
        await Promise.all(settled);
        expect(vi.getTimerCount()).toBe(0);
        expect(servedTakes).toEqual([...servedTakes].sort((a, b) => a - b));
        const times = [...new Set(grants.map((g) => g.at))];
        for (const from of times) {
          for (const to of times) {
            if (to < from) continue;
            const inWindow = grants.filter((g) => g.at >= from && g.at <= to).reduce((sum, g) => sum + g.n, 0);
            expect(inWindow).toBeLessThanOrEqual(burst + (rate * (to - from)) / 1_000 + 1e-9);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('isTokenBucket knows a bucket from another copy of the module (the CJS build next to the ESM one), where instanceof does not', async () => {
    vi.resetModules();
    const other = await import('../../src/limit/token-bucket.js');
    expect(other.TokenBucket).not.toBe(TokenBucket);
    const foreign = new other.TokenBucket({ rate: 1 });
    expect(foreign instanceof TokenBucket).toBe(false);
    expect(isTokenBucket(foreign)).toBe(true);
    expect(isTokenBucket(new TokenBucket({ rate: 1 }))).toBe(true);
    expect([isTokenBucket({ rate: 1, take: () => Promise.resolve() }), isTokenBucket(null), isTokenBucket('bucket')]).toEqual([false, false, false]);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
      },
    );
    expect(isTokenBucket(hostile)).toBe(false);
  });

  it('isTokenBucket is false for anything that is not an object: a function carrying the brand is no bucket', () => {
    const branded = Object.assign(() => undefined, { [Symbol.for('clientpool.token-bucket')]: true });
    expect(isTokenBucket(branded)).toBe(false);
  });

  it('a bucket carries the registry key clientpool.token-bucket, by which other versions of clientpool know it', () => {
    const key = Symbol.for('clientpool.token-bucket');
    expect((new TokenBucket({ rate: 1 }) as unknown as Record<symbol, unknown>)[key]).toBe(true);
    // What a bucket of another version looks like to this one: only the shared key is common to both.
    expect(isTokenBucket({ [key]: true })).toBe(true);
  });

  it('refuses durations a timer cannot hold (above 2^31-1 ms): maxWait, pause', async () => {
    const bucket = new TokenBucket({ rate: 1, clock: dateClock });
    expect(() => bucket.pause(2 ** 31)).toThrow(/pause must be a duration in ms >= 0 and <= 2147483647, got 2147483648/);
    expect(bucket.available).toBe(1);
    const error = await bucket.take(1, { maxWait: 2 ** 31 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).message).toMatch(/maxWait must be a duration in ms >= 0 and <= 2147483647, got 2147483648/);
    bucket.pause(2 ** 31 - 1);
    expect(bucket.waitTime()).toBe(2 ** 31 - 1 + 1_000);
  });

  it('close() rejects waiters and stops the timer', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock: dateClock });
    bucket.tryTake();
    const waiting = bucket.take(1).catch((e: unknown) => e);
    bucket.close();
    expect(await waiting).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a wait within the float tolerance (1e-6 ms) is no wait: waitTime says 0 and tryTake agrees', () => {
    // At 10^9 tokens per second a token takes exactly the tolerance: 1000 / 1e9 ms.
    const bucket = new TokenBucket({ rate: 1e9, burst: 1, clock: new ManualClock() });
    bucket.pause(0);
    expect(bucket.waitTime()).toBe(0);
    expect(bucket.tryTake()).toBe(true);
  });

  it('a caller that will not wait (maxWait 0) gets each token as it falls due, though 1000/3 ms intervals do not add up exactly', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 3, burst: 1, clock });
    for (let k = 0; k < 12; k++) {
      clock.time = (k * 1_000) / 3;
      await expect(bucket.take(1, { maxWait: 0 })).resolves.toBeUndefined();
    }
    expect(bucket.tryTake()).toBe(false);
  });

  it('a refusal names the bucket as its scope, at once and for a waiter refused later', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 1, burst: 1, clock });
    bucket.tryTake();
    const atOnce = await bucket.take(1, { maxWait: 10 }).catch((e: unknown) => e);
    expect((atOnce as Error).message).toBe('rate limited (bucket): next token in 1000 ms');
    const later = bucket.take(1, { maxWait: 1_000 }).catch((e: unknown) => e);
    bucket.pause(5_000);
    expect(((await later) as Error).message).toBe('rate limited (bucket): next token in 6000 ms');
  });

  it('burst defaults to the rate, and to 1 below a rate of 1; maxWait to 1 s', async () => {
    const clock = new ManualClock();
    expect(new TokenBucket({ rate: 20, clock }).burst).toBe(20);
    expect(new TokenBucket({ rate: 0.5, clock }).burst).toBe(1);
    const bucket = new TokenBucket({ rate: 1, clock });
    bucket.tryTake();
    // A wait of exactly maxWait is taken; one longer is refused at once.
    const waited = bucket.take(1);
    const refused = await bucket.take(1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(2_000);
    clock.time = 1_000;
    await vi.advanceTimersByTimeAsync(1_000);
    await waited;
  });

  it('available counts the tokens there now, fractions included', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 5, clock });
    expect(bucket.available).toBe(5);
    expect(bucket.tryTake(2)).toBe(true);
    expect(bucket.available).toBe(3);
    clock.time = 50;
    expect(bucket.available).toBe(3.5);
    clock.time = 10_000;
    expect(bucket.available).toBe(5);
    bucket.pause(1_000);
    expect(bucket.available).toBe(0);
  });

  it('waitTime is the wait for n tokens after those queued, and 0 when tryTake would succeed', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock });
    expect(bucket.waitTime()).toBe(0);
    expect(bucket.waitTime(2)).toBe(0);
    expect(bucket.tryTake(2)).toBe(true);
    expect(bucket.waitTime()).toBe(100);
    expect(bucket.waitTime(2)).toBe(200);
    const queued = bucket.take(2);
    expect(bucket.waitTime()).toBe(300);
    clock.time = 200;
    await vi.advanceTimersByTimeAsync(200);
    await queued;
  });

  it('takes n tokens at once, and refuses n outside (0, burst] naming the bound', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 3, clock });
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    for (const n of [0, 4, Number.NaN]) {
      expect(() => bucket.tryTake(n)).toThrow(`tokens must be a number > 0 and <= burst (3), got ${n}`);
      const error = await bucket.take(n).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toBe(`tokens must be a number > 0 and <= burst (3), got ${n}`);
    }
  });

  it('take() rejects at once after close(), a signal already aborted, and bad take options', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, clock });
    const controller = new AbortController();
    controller.abort('early');
    const aborted = await bucket.take(1, { signal: controller.signal }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(AbortedError);
    expect((aborted as Error).cause).toBe('early');
    expect(bucket.available).toBe(10);
    await expect(bucket.take(1, null as never)).rejects.toThrow('take options must be an options object, got null');
    await expect(bucket.take(1, { signal: 'no' as never })).rejects.toThrow('signal must be an AbortSignal, got "no"');
    bucket.close();
    await expect(bucket.take(1)).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('validates its options', () => {
    expect(() => new TokenBucket(undefined as never)).toThrow('limit must be an options object with rate, got undefined');
    expect(() => new TokenBucket({ rate: 1 }, 'methods.m.limit')).not.toThrow();
    expect(() => new TokenBucket({ rate: 0 }, 'clients.a.limit')).toThrow('clients.a.limit.rate must be a finite number > 0, got 0');
    expect(() => new TokenBucket({ rate: 1, clock: {} as never })).toThrow(/limit.clock must be a clock/);
    expect(() => new TokenBucket({ rate: -1 })).toThrow(/limit.rate must be a finite number > 0, got -1/);
    expect(() => new TokenBucket({ rate: Number.NaN })).toThrow(/got NaN/);
    expect(() => new TokenBucket({ rate: 1, burst: 0.5 })).toThrow(/limit.burst must be a finite number >= 1, got 0.5/);
    expect(() => new TokenBucket({ rate: 1, maxWait: -1 })).toThrow(/limit.maxWait must be a duration in ms >= 0 and <= 2147483647, got -1/);
    expect(() => new TokenBucket({ rate: 1, maxWait: 2 ** 31 })).toThrow(/limit.maxWait must be a duration in ms >= 0 and <= 2147483647, got 2147483648/);
  });
});
