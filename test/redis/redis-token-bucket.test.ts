import type { Cluster, Redis } from 'ioredis';
import type { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { AbortedError, ClientPool, InvalidOptionError, PoolClosedError, RateLimitedError, TimeoutError } from '../../src/index.js';
import { RedisTokenBucket, type FallbackEvent, type RecoverEvent, type RedisScriptClient, type RedisTokenBucketOptions } from '../../src/redis/index.js';
import { ADJUST_SCRIPT, ADJUST_SHA } from '../../src/redis/script.js';

// The bucket's state machine against a scripted Redis: each script run waits until the test answers it,
// on fake timers, so every wait, timeout and probe is exact. The script itself is tested on a real server
// in script.test.ts, and the whole on real servers in integration.test.ts and fleet.slow.test.ts.

interface Run {
  /** Which script: a take (refill-and-take, or a probe) or an adjustment (`adjust()`). */
  readonly script: 'take' | 'adjust';
  /** Microseconds per token, as sent. */
  readonly interval: number;
  /** An adjustment's tokens (NaN for a take). */
  readonly n: number;
  readonly need: number;
  readonly demand: number;
  readonly extra: number;
  readonly keep: number;
  answer(granted: number, waitUs?: number): void;
  fail(error: Error): void;
}

class ScriptedRedis implements RedisScriptClient {
  readonly runs: Run[] = [];
  /** Runs not answered yet, oldest first. */
  get pending(): Run[] {
    return this.runs.filter((run) => !this.#answered.has(run));
  }
  readonly #answered = new Set<Run>();

  evalsha(sha: string, _numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    const isAdjust = sha === ADJUST_SHA;
    return new Promise((resolve, reject) => {
      const run: Run = {
        script: isAdjust ? 'adjust' : 'take',
        interval: Number(args[1]),
        n: isAdjust ? Number(args[3]) : Number.NaN,
        need: Number(args[3]),
        demand: Number(args[4]),
        extra: Number(args[5]),
        keep: Number(args[6]),
        answer: (granted, waitUs = 0) => {
          this.#answered.add(run);
          resolve([granted, waitUs]);
        },
        fail: (error) => {
          this.#answered.add(run);
          reject(error);
        },
      };
      this.runs.push(run);
    });
  }

  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.evalsha(script === ADJUST_SCRIPT ? ADJUST_SHA : '', numKeys, ...args);
  }

  /** The oldest unanswered run. */
  next(): Run {
    const run = this.pending[0];
    if (run === undefined) throw new Error('no script run is pending');
    return run;
  }
}

const clock = { now: () => Date.now() };
const base = { key: 'k', rate: 10, burst: 10, clock } as const;

let redis: ScriptedRedis;
const bucket = (options: Partial<RedisTokenBucketOptions> = {}): RedisTokenBucket => new RedisTokenBucket({ redis, ...base, ...options });
const settled = (promise: Promise<unknown>): { readonly state: string; readonly value: unknown } => {
  const box = { state: 'pending', value: undefined as unknown };
  promise.then(
    (value) => Object.assign(box, { state: 'resolved', value }),
    (error: unknown) => Object.assign(box, { state: 'rejected', value: error }),
  );
  return box;
};

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  redis = new ScriptedRedis();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RedisTokenBucket options', () => {
  // Each case overrides the valid options; `whole` replaces them.
  const whole = (options: unknown) => ({ whole: options });
  const bad: [string, unknown, RegExp][] = [
    ['no options', whole(undefined), /options must be an options object with redis, key and rate, got undefined/],
    ['options not an object', whole('fast'), /options must be an options object, got "fast"/],
    ['redis missing', whole({ key: 'k', rate: 1 }), /redis must be a Redis client with evalsha\(\) and eval\(\) \(ioredis\), got undefined/],
    ['redis without eval', { redis: { evalsha: () => 0 } }, /redis must be a Redis client/],
    ['key empty', { key: '' }, /key must be a non-empty string, got ""/],
    ['rate 0', { rate: 0 }, /rate must be a finite number > 0, got 0/],
    ['rate NaN', { rate: Number.NaN }, /rate must be a finite number > 0, got NaN/],
    ['burst 0.5', { burst: 0.5 }, /burst must be a finite number >= 1, got 0.5/],
    ['maxWait negative', { maxWait: -1 }, /maxWait must be a duration in ms >= 0 and <= 2147483647, got -1/],
    ['maxWait past the longest timer', { maxWait: 2 ** 31 }, /maxWait must be a duration in ms >= 0 and <= 2147483647, got 2147483648/],
    ['lease 0', { lease: 0 }, /lease must be an integer >= 1, got 0/],
    ['lease 1.5', { lease: 1.5 }, /lease must be an integer >= 1, got 1.5/],
    ['lease above burst', { lease: 11 }, /lease must be an integer from 1 to burst \(10\), got 11/],
    ['leaseTtl 0', { leaseTtl: 0 }, /leaseTtl must be a duration in ms > 0 and <= 2147483647, got 0/],
    ['leaseTtl past the longest timer', { leaseTtl: 2 ** 31 }, /leaseTtl must be a duration in ms > 0 and <= 2147483647, got 2147483648/],
    ['timeout Infinity', { timeout: Infinity }, /timeout must be a duration in ms > 0 and <= 2147483647, got Infinity/],
    ['timeout past the longest timer', { timeout: 2 ** 31 }, /timeout must be a duration in ms > 0 and <= 2147483647, got 2147483648/],
    ['recheckInterval string', { recheckInterval: '1s' }, /recheckInterval must be a duration in ms > 0 and <= 2147483647, got "1s"/],
    ['recheckInterval past the longest timer', { recheckInterval: 2 ** 31 }, /recheckInterval must be a duration in ms > 0 and <= 2147483647, got 2147483648/],
    ['processes 0', { processes: 0 }, /processes must be an integer >= 1, got 0/],
    ['insurance not an object', { insurance: 5 }, /insurance must be an options object, got 5/],
    ['insurance.rate 0', { insurance: { rate: 0 } }, /insurance.rate must be a finite number > 0, got 0/],
    ['insurance.burst 0', { insurance: { burst: 0 } }, /insurance.burst must be a finite number >= 1, got 0/],
    ['clock without now', { clock: {} }, /clock.now must be a function, got undefined/],
  ];
  it.each(bad)('%s', (_name, override, message) => {
    const options = typeof override === 'object' && override !== null && 'whole' in override ? override.whole : { redis, ...base, ...(override as object) };
    const build = (): RedisTokenBucket => new RedisTokenBucket(options as RedisTokenBucketOptions);
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(message);
  });

  it('defaults: burst max(1, rate), lease 1, insurance rate/processes and burst/processes', () => {
    const b = new RedisTokenBucket({ redis, key: 'k', rate: 0.5 });
    expect([b.burst, b.lease]).toEqual([1, 1]);
    expect(new RedisTokenBucket({ redis, key: 'k', rate: 200 }).burst).toBe(200);
  });

  it('per: rate counts over `per` ms, in Redis and in the insurance bucket (600 a minute is a token per 100 ms)', async () => {
    const b = bucket({ rate: 600, per: 60_000, burst: 1 });
    expect([b.rate, b.per]).toEqual([600, 60_000]);
    const take = b.take(1);
    expect(redis.next()).toMatchObject({ interval: 100_000 });
    redis.next().fail(new Error('down'));
    await take;
    expect(b.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(b.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(b.tryTake()).toBe(true);
    expect(() => bucket({ per: 0 })).toThrow(/per must be a duration in ms > 0 and <= 2147483647, got 0/);
    b.close();
  });

  it('accepts an ioredis 5 or 6 Redis or Cluster as it is (types)', () => {
    expectTypeOf<Redis>().toExtend<RedisScriptClient>();
    expectTypeOf<Cluster>().toExtend<RedisScriptClient>();
    expectTypeOf<Redis6>().toExtend<RedisScriptClient>();
    expectTypeOf<Cluster6>().toExtend<RedisScriptClient>();
  });

  it('rejects a bad take at once, taking nothing', async () => {
    const b = bucket();
    await expect(b.take(0)).rejects.toThrow(/tokens must be a number > 0 and <= burst \(10\), got 0/);
    await expect(b.take(Number.NaN)).rejects.toThrow(/tokens must be a number > 0 and <= burst \(10\), got NaN/);
    await expect(b.take(11)).rejects.toThrow(InvalidOptionError);
    await expect(b.take(1, { maxWait: -1 })).rejects.toThrow(/maxWait must be a duration in ms >= 0 and <= 2147483647, got -1/);
    await expect(b.take(1, { maxWait: 2 ** 31 })).rejects.toThrow(/maxWait must be a duration in ms >= 0 and <= 2147483647, got 2147483648/);
    await expect(b.take(1, { signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
    expect(redis.runs).toHaveLength(0);
  });
});

describe('RedisTokenBucket with Redis answering', () => {
  it('takes a token in one round trip; concurrent takes share one round trip and resolve in FIFO order', async () => {
    const b = bucket();
    const order: number[] = [];
    const takes = [1, 2, 3].map((i) => b.take(1).then(() => order.push(i)));
    expect(redis.runs).toHaveLength(1);
    expect(redis.next()).toMatchObject({ need: 1, demand: 1 });
    redis.next().answer(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([1]);
    // The two that queued meanwhile go together.
    expect(redis.next()).toMatchObject({ need: 1, demand: 2 });
    redis.next().answer(2);
    await Promise.all(takes);
    expect(order).toEqual([1, 2, 3]);
    expect(b.stats).toMatchObject({ roundTrips: 2, redisTokens: 3, leasedTokens: 0, mode: 'redis' });
  });

  it('serves the head first when only part of the demand is granted, and asks again for the rest', async () => {
    const b = bucket();
    const first = settled(b.take(2));
    const second = settled(b.take(3));
    redis.next().answer(2);
    await vi.advanceTimersByTimeAsync(0);
    expect([first.state, second.state]).toEqual(['resolved', 'pending']);
    expect(redis.next()).toMatchObject({ need: 3, demand: 3 });
  });

  it('waits the time Redis answers, then asks again, once for those who queued meanwhile too', async () => {
    const b = bucket();
    const take = settled(b.take(1, { maxWait: 1_000 }));
    redis.next().answer(0, 100_000);
    await vi.advanceTimersByTimeAsync(50);
    const later = settled(b.take(1, { maxWait: 1_000 }));
    await vi.advanceTimersByTimeAsync(49);
    expect(redis.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(redis.next()).toMatchObject({ need: 1, demand: 2 });
    redis.next().answer(2);
    await vi.advanceTimersByTimeAsync(0);
    expect([take.state, later.state]).toEqual(['resolved', 'resolved']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with RateLimitedError and retryAfterMs those who cannot be served within maxWait, keeping the others', async () => {
    const b = bucket(); // rate 10: a token every 100 ms
    const takes = [settled(b.take(1, { maxWait: 250 })), settled(b.take(1, { maxWait: 250 })), settled(b.take(1, { maxWait: 250 }))];
    redis.next().answer(0, 100_000);
    await vi.advanceTimersByTimeAsync(0);
    // Due in 100, 200 and 300 ms: the third cannot make it.
    expect(takes.map((t) => t.state)).toEqual(['pending', 'pending', 'rejected']);
    expect(takes[2]!.value).toBeInstanceOf(RateLimitedError);
    expect((takes[2]!.value as RateLimitedError).retryAfterMs).toBe(300);
    await vi.advanceTimersByTimeAsync(100);
    expect(redis.next()).toMatchObject({ need: 1, demand: 2 });
  });

  it('with maxWait 0, fails after one round trip instead of waiting', async () => {
    const b = bucket({ maxWait: 0 });
    const take = b.take(1);
    redis.next().answer(0, 40_000);
    await expect(take).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: 40 });
  });

  it('maxWait bounds the wait for tokens, not the round trip: a take with maxWait 0 is served by a slow answer within timeout', async () => {
    const b = bucket({ maxWait: 0, timeout: 50 });
    const take = settled(b.take(1));
    await vi.advanceTimersByTimeAsync(40);
    expect(take.state).toBe('pending');
    redis.next().answer(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(take.state).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a waiter Redis keeps waiting past its maxWait (other processes took the tokens) is refused then, not later', async () => {
    const b = bucket({ maxWait: 300, timeout: 50 });
    const take = settled(b.take(1));
    redis.next().answer(0, 200_000);
    await vi.advanceTimersByTimeAsync(200);
    // Another process took the token: now 250 ms more, past the deadline, so refused at once.
    redis.next().answer(0, 250_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(take.state).toBe('rejected');
    expect((take.value as RateLimitedError).retryAfterMs).toBe(250);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an aborted waiter leaves the queue with the reason, and the next is not held up by it', async () => {
    const b = bucket();
    const controller = new AbortController();
    const big = settled(b.take(5, { signal: controller.signal }));
    const small = settled(b.take(1));
    redis.next().answer(0, 500_000);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('user left'));
    await vi.advanceTimersByTimeAsync(0);
    expect(big.state).toBe('rejected');
    expect(big.value).toBeInstanceOf(AbortedError);
    expect((big.value as AbortedError).cause).toEqual(new Error('user left'));
    // Asked again at once for the one token the new head needs.
    expect(redis.next()).toMatchObject({ need: 1, demand: 1 });
    redis.next().answer(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(small.state).toBe('resolved');
    await expect(b.take(1, { signal: AbortSignal.abort('already') })).rejects.toBeInstanceOf(AbortedError);
  });

  it('leases up to `lease` tokens per round trip into a reserve that tryTake serves synchronously', async () => {
    const b = bucket({ lease: 5, burst: 20 });
    expect(b.tryTake()).toBe(false);
    const take = b.take(1);
    expect(redis.next()).toMatchObject({ need: 1, demand: 1, extra: 4, keep: 10 });
    redis.next().answer(5);
    await take;
    expect([b.tryTake(), b.tryTake(), b.tryTake(3), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, false, true, true, false]);
    expect(b.stats).toMatchObject({ roundTrips: 1, redisTokens: 5, leasedTokens: 4, reserve: 0, expiredTokens: 0 });
  });

  it('drops leased tokens unused after leaseTtl', async () => {
    const b = bucket({ lease: 5, leaseTtl: 200 });
    const take = b.take(1);
    redis.next().answer(5);
    await take;
    await vi.advanceTimersByTimeAsync(199);
    expect(b.tryTake()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(b.tryTake()).toBe(false);
    expect(b.stats).toMatchObject({ reserve: 0, expiredTokens: 3 });
  });

  it('plugs into ClientPool as its limit; pool.close() closes it', async () => {
    const b = bucket({ lease: 2 });
    const pool = new ClientPool<string>({ limit: b, clock });
    pool.add('client');
    const first = pool.run((c) => c);
    redis.next().answer(2);
    await expect(first).resolves.toBe('client');
    // The leased token serves the next call through tryTake, without a round trip.
    await expect(pool.run((c) => c)).resolves.toBe('client');
    expect(redis.runs).toHaveLength(1);
    const waiting = pool.run((c) => c);
    await pool.close();
    await expect(waiting).rejects.toBeInstanceOf(PoolClosedError);
    expect(b.state.mode).toBe('closed');
  });
});

describe('RedisTokenBucket when Redis is slow or down', () => {
  it('falls back to the local insurance bucket after `timeout`, not before, and reports it once', async () => {
    const b = bucket({ timeout: 50, processes: 4, rate: 100, burst: 20 });
    const events: FallbackEvent[] = [];
    b.onFallback((event) => events.push(event));
    const take = settled(b.take(1));
    await vi.advanceTimersByTimeAsync(49);
    expect(take.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(take.state).toBe('resolved');
    expect(events).toHaveLength(1);
    expect(events[0]!.key).toBe('k');
    expect(events[0]!.cause).toBeInstanceOf(TimeoutError);
    expect(b.state).toMatchObject({ mode: 'fallback', since: 50 });
    // The local share: rate 100 / 4 processes, burst 20 / 4; one token went to the take above.
    let local = 0;
    while (b.tryTake()) local++;
    expect(local).toBe(4);
    await vi.advanceTimersByTimeAsync(40); // one token per 40 ms at 25/s
    expect(b.tryTake()).toBe(true);
    expect(b.stats).toMatchObject({ mode: 'fallback', failures: 1, fallbacks: 1, localTokens: 6 });
    b.close();
  });

  it('falls back at once on a Redis error, and hands every queued waiter over in order', async () => {
    const b = bucket({ insurance: { rate: 10, burst: 1 } });
    const order: number[] = [];
    const takes = [1, 2].map((i) => b.take(1, { maxWait: 1_000 }).then(() => order.push(i)));
    redis.next().fail(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(takes);
    expect(order).toEqual([1, 2]);
    expect(b.state).toMatchObject({ mode: 'fallback', cause: { message: expect.stringMatching(/enableOfflineQueue/) as unknown } });
    b.close();
  });

  it('a handed-over waiter keeps its deadline: RateLimitedError if the local share cannot serve it in time', async () => {
    const b = bucket({ insurance: { rate: 1, burst: 1 } });
    const first = settled(b.take(1, { maxWait: 100 }));
    const second = settled(b.take(1, { maxWait: 100 }));
    redis.next().fail(new Error('down'));
    await vi.advanceTimersByTimeAsync(0);
    expect(first.state).toBe('resolved');
    expect(second.state).toBe('rejected');
    expect(second.value).toBeInstanceOf(RateLimitedError);
    b.close();
  });

  it('probes every recheckInterval, one probe at a time, and returns to Redis when one answers', async () => {
    const b = bucket({ timeout: 50, recheckInterval: 1_000 });
    const recovered: RecoverEvent[] = [];
    b.onRecover((event) => recovered.push(event));
    const take = b.take(1);
    redis.next().fail(new Error('down'));
    await take;
    await vi.advanceTimersByTimeAsync(999);
    expect(redis.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(redis.next()).toMatchObject({ need: 0, demand: 0, extra: 0 }); // read-only probe
    // It hangs: the timeout ends it, and the next probe comes a full interval later.
    await vi.advanceTimersByTimeAsync(50 + 999);
    expect(redis.pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(redis.pending).toHaveLength(2);
    redis.pending[1]!.answer(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(recovered).toEqual([{ key: 'k', downMs: 2_050 }]);
    expect(b.state).toEqual({ mode: 'redis' });
    // Back on Redis: the next take is a round trip again.
    const next = b.take(1);
    expect(redis.runs.at(-1)).toMatchObject({ need: 1 });
    redis.runs.at(-1)!.answer(1);
    await next;
    expect(b.stats).toMatchObject({ fallbacks: 1, failures: 2, roundTrips: 4 });
    // The hung probe answering late changes nothing.
    redis.pending[0]!.answer(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(recovered).toHaveLength(1);
    b.close();
  });

  it('the probe timer does not keep the process alive', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const b = bucket({ recheckInterval: 777 });
    const take = b.take(1);
    redis.next().fail(new Error('down'));
    await take;
    const probe = spy.mock.results.find((_r, i) => spy.mock.calls[i]![1] === 777)?.value as NodeJS.Timeout | undefined;
    expect(probe?.hasRef()).toBe(false);
    spy.mockRestore();
    b.close();
  });

  it('a late rejection of a timed-out round trip is absorbed, not unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const b = bucket({ timeout: 50 });
      const take = b.take(1);
      await vi.advanceTimersByTimeAsync(50);
      await take;
      redis.next().fail(new Error('Connection is closed.'));
      await vi.advanceTimersByTimeAsync(0);
      // Node reports unhandled rejections after the microtask queue drains: give it a real turn.
      vi.useRealTimers();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
      b.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('close() rejects waiters, stops the retry and probe timers, and ignores late answers', async () => {
    const b = bucket();
    const waiting = settled(b.take(1));
    redis.next().answer(0, 500_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    b.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.value).toBeInstanceOf(PoolClosedError);
    expect(vi.getTimerCount()).toBe(0);
    await expect(b.take(1)).rejects.toBeInstanceOf(PoolClosedError);
    expect(b.tryTake()).toBe(false);

    const down = bucket();
    const take = down.take(1);
    redis.next().fail(new Error('down'));
    await take;
    expect(vi.getTimerCount()).toBe(1); // the probe
    down[Symbol.dispose]();
    expect(vi.getTimerCount()).toBe(0);
    expect(down.state).toEqual({ mode: 'closed' });
  });
});

describe('RedisTokenBucket.adjust (settling a call cost)', () => {
  // An adjust run is answered with [movedUs, fullInUs], as the script does.
  const interval = 100_000; // rate 10: µs per token

  it('sends a charge or a refund as one adjust run of n tokens, on the bucket interval, and returns at once', () => {
    const b = bucket({ per: 60_000, rate: 600 }); // 600 a minute: still a token per 100 ms
    expect(b.adjust(3)).toBeUndefined();
    expect(redis.next()).toMatchObject({ script: 'adjust', n: 3, interval });
    redis.next().answer(3 * interval, 3 * interval);
    expect(b.stats).toMatchObject({ chargedTokens: 3, refundedTokens: 0, roundTrips: 1 });
  });

  it('adds up adjustments made while one is in flight and sends them as one', async () => {
    const b = bucket();
    b.adjust(3);
    b.adjust(-1);
    b.adjust(2.5);
    expect(redis.runs).toHaveLength(1);
    redis.next().answer(3 * interval, 3 * interval);
    await vi.advanceTimersByTimeAsync(0);
    expect(redis.runs).toHaveLength(2);
    expect(redis.next()).toMatchObject({ script: 'adjust', n: 1.5 });
    redis.next().answer(1.5 * interval, 4.5 * interval);
    await vi.advanceTimersByTimeAsync(0);
    // Adjustments that cancel out while one is in flight cost no round trip.
    b.adjust(1);
    b.adjust(2);
    b.adjust(-1);
    b.adjust(-1);
    redis.next().answer(interval, interval);
    await vi.advanceTimersByTimeAsync(0);
    expect(redis.runs).toHaveLength(3);
    expect(b.stats).toMatchObject({ chargedTokens: 8.5, refundedTokens: 3 });
  });

  it('0 is a no-op without a round trip; after close() adjust does nothing', () => {
    const b = bucket();
    b.adjust(0);
    b.adjust(-0);
    expect(redis.runs).toHaveLength(0);
    b.close();
    b.adjust(5);
    b.adjust(-5);
    expect(redis.runs).toHaveLength(0);
    expect(b.stats).toMatchObject({ chargedTokens: 0, refundedTokens: 0, adjustFailures: 0 });
  });

  it('ignores an n that is not a finite number without throwing, counts it, and warns once per bucket', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const b = bucket();
      for (const n of [Number.NaN, Infinity, -Infinity, '3' as unknown as number, undefined as unknown as number]) expect(() => b.adjust(n)).not.toThrow();
      expect(redis.runs).toHaveLength(0);
      expect(b.stats).toMatchObject({ adjustFailures: 5, chargedTokens: 0, refundedTokens: 0 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/RedisTokenBucket\(k\)\.adjust\(\): tokens must be a finite number, got NaN/);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'CLIENTPOOL_CALLBACK_ERROR' });
    } finally {
      warn.mockRestore();
    }
  });

  it('never throws, even when the clock throws: the adjustment is dropped, counted and reported once', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      let isBroken = false;
      const now = (): number => {
        if (isBroken) throw new Error('clock broke');
        return Date.now();
      };
      const b = bucket({ lease: 5, clock: { now } });
      const take = b.take(1);
      redis.next().answer(5);
      await take;
      isBroken = true;
      expect(() => b.adjust(2)).not.toThrow();
      isBroken = false;
      expect(b.stats.adjustFailures).toBe(1);
      expect(warn.mock.calls[0]![0]).toMatch(/RedisTokenBucket\(k\)\.adjust\(2\) failed: clock broke/);
      b.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('pays a charge from the leased reserve first (no round trip), whole tokens, the rest in Redis', async () => {
    const b = bucket({ lease: 5, burst: 20 });
    const take = b.take(1);
    redis.next().answer(5);
    await take;
    expect(b.stats.reserve).toBe(4);
    b.adjust(3);
    expect(redis.runs).toHaveLength(1);
    expect(b.stats.reserve).toBe(1);
    b.adjust(2.5);
    expect(b.stats.reserve).toBe(0);
    expect(redis.next()).toMatchObject({ script: 'adjust', n: 1.5 });
    expect(b.stats).toMatchObject({ chargedTokens: 5.5, expiredTokens: 0 });
  });

  it('gives a refund back to Redis, for the fleet, not to the local reserve', async () => {
    const b = bucket({ lease: 5, burst: 20 });
    const take = b.take(1);
    redis.next().answer(5);
    await take;
    b.adjust(-2);
    expect(redis.next()).toMatchObject({ script: 'adjust', n: -2 });
    expect(b.stats.reserve).toBe(4);
  });

  it('a refund wakes a waiter sleeping until its tokens were due: it asks again at once', async () => {
    const b = bucket();
    const take = settled(b.take(1));
    redis.next().answer(0, 500_000);
    await vi.advanceTimersByTimeAsync(10);
    b.adjust(-1);
    redis.next().answer(-interval, 9 * interval);
    await vi.advanceTimersByTimeAsync(0);
    expect(redis.next()).toMatchObject({ script: 'take', need: 1 });
    redis.next().answer(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(take.state).toBe('resolved');
  });

  it('a charge, or a refund Redis had no room for (full bucket), does not wake a sleeping waiter', async () => {
    const b = bucket();
    settled(b.take(1));
    redis.next().answer(0, 500_000);
    b.adjust(2);
    redis.next().answer(2 * interval, 12 * interval);
    b.adjust(-2);
    await vi.advanceTimersByTimeAsync(0);
    redis.next().answer(0, 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(redis.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(redis.next()).toMatchObject({ script: 'take', need: 1 });
    b.close();
  });

  it('an adjust round trip that times out falls back (onFallback), counts the failure, and the adjustment goes to the insurance bucket', async () => {
    const b = bucket({ timeout: 50, insurance: { rate: 10, burst: 3 } });
    const events: FallbackEvent[] = [];
    b.onFallback((event) => events.push(event));
    b.adjust(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(b.state.mode).toBe('redis');
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toHaveLength(1);
    expect(events[0]!.cause).toBeInstanceOf(TimeoutError);
    expect(b.stats).toMatchObject({ mode: 'fallback', failures: 1, adjustFailures: 1, chargedTokens: 2 });
    // The local bucket (3 tokens) was charged 2: one is left.
    expect([b.tryTake(), b.tryTake()]).toEqual([true, false]);
    // The late answer changes nothing.
    redis.next().answer(2 * interval, 2 * interval);
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state.mode).toBe('fallback');
    b.close();
  });

  it('an adjust round trip that fails falls back at once, and adjustments made meanwhile go to the insurance bucket too', async () => {
    const b = bucket({ insurance: { rate: 10, burst: 5 } });
    b.adjust(2);
    b.adjust(1);
    redis.next().fail(new Error('Connection is closed.'));
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toMatchObject({ mode: 'fallback', cause: { message: 'Connection is closed.' } });
    expect([b.tryTake(2), b.tryTake(1)]).toEqual([true, false]);
    expect(b.stats).toMatchObject({ adjustFailures: 1, failures: 1 });
    b.close();
  });

  it('a client that throws at once is a failure like any other: adjust neither throws nor leaves a rejection', async () => {
    const throwing: RedisScriptClient = {
      evalsha: () => {
        throw new Error('sync boom');
      },
      eval: () => {
        throw new Error('sync boom');
      },
    };
    const b = new RedisTokenBucket({ redis: throwing, ...base, insurance: { rate: 10, burst: 2 } });
    expect(() => b.adjust(1)).not.toThrow();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toMatchObject({ mode: 'fallback', cause: { message: 'sync boom' } });
    expect([b.tryTake(), b.tryTake()]).toEqual([true, false]);
    b.close();
  });

  it('in fallback, adjusts the insurance bucket without a round trip, and does not replay it to Redis after recovery', async () => {
    const b = bucket({ insurance: { rate: 10, burst: 4 }, recheckInterval: 1_000 });
    const take = b.take(1);
    redis.next().fail(new Error('down'));
    await take; // from the insurance bucket: 3 left
    const runs = redis.runs.length;
    b.adjust(3);
    expect(b.tryTake()).toBe(false);
    b.adjust(-2);
    expect([b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, false]);
    // A refund never fills it past its burst.
    b.adjust(-100);
    let local = 0;
    while (b.tryTake()) local++;
    expect(local).toBe(4);
    expect(redis.runs).toHaveLength(runs);
    await vi.advanceTimersByTimeAsync(1_000);
    redis.next().answer(0); // the probe: back on Redis
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state.mode).toBe('redis');
    expect(redis.runs.filter((run) => run.script === 'adjust')).toHaveLength(0);
    expect(b.stats).toMatchObject({ chargedTokens: 3, refundedTokens: 102, adjustFailures: 0 });
    b.close();
  });

  it('in fallback, a take above the insurance burst waits for a full insurance bucket, takes it all and owes the rest', async () => {
    const b = bucket({ insurance: { rate: 10, burst: 2 } });
    const first = b.take(1);
    redis.next().fail(new Error('down'));
    await first; // 1 left
    expect(b.tryTake(5)).toBe(false); // no throw: more than the insurance bucket holds
    const big = settled(b.take(5));
    await vi.advanceTimersByTimeAsync(99);
    expect(big.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1); // full (2) at 100 ms: taken, 3 owed
    expect(big.state).toBe('resolved');
    // 3 owed and 1 more: 400 ms at 10/s.
    await vi.advanceTimersByTimeAsync(399);
    expect(b.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(b.tryTake()).toBe(true);
    expect(b.stats.localTokens).toBe(7);
    b.close();
  });

  it('closing with an adjust in flight ignores its answer', async () => {
    const b = bucket();
    b.adjust(-1);
    b.close();
    redis.next().answer(-interval, 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(redis.runs).toHaveLength(1);
    expect(b.state.mode).toBe('closed');
  });
});

describe('RedisTokenBucket multi-token takes', () => {
  it('refuses a take above burst at once and clearly, sending nothing and holding up no one', async () => {
    const b = bucket({ burst: 10 });
    await expect(b.take(11)).rejects.toThrow(/tokens must be a number > 0 and <= burst \(10\), got 11/);
    await expect(b.take(10.5)).rejects.toBeInstanceOf(InvalidOptionError);
    expect([b.tryTake(11), b.tryTake(Number.NaN), b.tryTake(0)]).toEqual([false, false, false]);
    expect(redis.runs).toHaveLength(0);
    const take = b.take(10);
    redis.next().answer(10);
    await take;
  });

  it('takes fractional costs: 2.5 tokens for the head, whole ones for the rest of the queue; the reserve serves fractions', async () => {
    const b = bucket({ lease: 4, burst: 20 });
    const first = settled(b.take(2.5));
    expect(redis.next()).toMatchObject({ need: 2.5, demand: 2.5, extra: 1.5 });
    redis.next().answer(4);
    await vi.advanceTimersByTimeAsync(0);
    expect(first.state).toBe('resolved');
    expect([b.tryTake(1.5), b.tryTake(0.5)]).toEqual([true, false]);
    expect(b.stats.reserve).toBe(0);
    // A head above the whole part of the burst still asks for all it needs.
    const small = bucket({ burst: 2.7 });
    const take = small.take(2.5);
    expect(redis.next()).toMatchObject({ need: 2.5, demand: 2.5 });
    small.close();
    await expect(take).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('keeps FIFO: a single-token take does not pass a queued multi-token one, even when the reserve could serve it', async () => {
    const b = bucket({ lease: 4, burst: 20 });
    const first = b.take(1);
    redis.next().answer(3); // 2 left in the reserve
    await first;
    const order: string[] = [];
    const big = b.take(3).then(() => order.push('big'));
    expect(redis.next()).toMatchObject({ script: 'take', need: 3, demand: 3 });
    const small = b.take(1).then(() => order.push('small'));
    expect(b.tryTake()).toBe(false);
    redis.next().answer(0, 200_000);
    await vi.advanceTimersByTimeAsync(199);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    // Both go in the next round trip; the head's 3 come first.
    expect(redis.next()).toMatchObject({ script: 'take', need: 3, demand: 4 });
    redis.next().answer(3);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
  });
});
