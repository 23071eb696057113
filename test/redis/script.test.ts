import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { TokenBucket } from '../../src/index.js';
import { runTokenBucketScript, TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_SHA, type ScriptRequest } from '../../src/redis/script.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { describeWithEachIoredis, useRedisServer, type TestRedis } from './describe-with-redis.js';

// The script runs on a real server, on fake time (ARGV[7]) so that the arithmetic can be checked exactly.
// A realistic epoch in microseconds: 16 digits, more than Lua's default 14-digit number formatting keeps.
const EPOCH_US = 1_750_000_000_000_000;

describeWithEachIoredis('token bucket script (real Redis, fake time)', (ioredis) => {
  const fixture = useRedisServer(ioredis);
  let redis: TestRedis;
  let keys = 0;
  const freshKey = (): string => `script-test:${++keys}`;
  beforeAll(async () => {
    redis = await fixture.connect();
  });

  /** Take `n` as a plain bucket would (no batching, no lease) at `ms` of fake time. */
  const take = (key: string, rate: number, burst: number, n: number, ms: number, more: Partial<ScriptRequest> = {}) =>
    runTokenBucketScript(redis, key, { interval: 1e6 / rate, burst, need: n, demand: n, extra: 0, keep: 0, nowUs: EPOCH_US + ms * 1_000, ...more });

  it('lets exactly burst + rate * t through: 20 + 100 over 10 s at rate 10, burst 20', async () => {
    const key = freshKey();
    let passed = 0;
    for (let ms = 0; ms <= 10_000; ms += 5) {
      while ((await take(key, 10, 20, 1, ms)).granted === 1) passed++;
    }
    expect(passed).toBe(120);
  });

  it('keeps fractional rates exact: 5 + 3 * 10 over 10 s at rate 3', async () => {
    const key = freshKey();
    let passed = 0;
    for (let ms = 0; ms <= 10_000; ms += 10) {
      while ((await take(key, 3, 5, 1, ms, { nowUs: ms * 1_000 })).granted === 1) passed++;
    }
    expect(passed).toBe(35);
  });

  it('decides exactly as the in-memory TokenBucket, and answers the same wait (model-based property)', async () => {
    // Rates whose interval is a whole number of microseconds (and milliseconds), so both sides are exact.
    const rates = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1_000];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rates),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 40 }),
        async (rate, burst, steps) => {
          const key = freshKey();
          const clock = new ManualClock();
          const bucket = new TokenBucket({ rate, burst, clock });
          for (const [advance, want] of steps) {
            clock.advance(advance);
            const n = Math.min(want, burst);
            const expectedWait = bucket.waitTime(n);
            const expected = bucket.tryTake(n);
            const reply = await take(key, rate, burst, n, clock.time);
            expect(reply.granted).toBe(expected ? n : 0);
            expect(reply.waitUs / 1_000).toBeCloseTo(expected ? 0 : expectedWait, 3);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([
    // [what, need, demand, extra, keep, bucket has, granted]
    ['plain take', 1, 1, 0, 0, 20, 1],
    ['batched demand takes what the queue wants', 1, 6, 0, 0, 20, 6],
    ['batched demand takes what there is, at least need', 2, 6, 0, 0, 4, 4],
    ['lease from a full bucket, leaving keep', 1, 1, 9, 10, 20, 10],
    ['lease limited by keep', 1, 1, 9, 10, 15, 5],
    ['no lease when the bucket is at keep', 1, 1, 9, 10, 11, 1],
    ['no lease below keep, need still served', 1, 1, 9, 10, 3, 1],
    ['nothing when need does not fit', 3, 6, 9, 10, 2, 0],
  ])('%s', async (_what, need, demand, extra, keep, has, granted) => {
    const key = freshKey();
    const rate = 10;
    const burst = 20;
    // Empty the bucket down to `has` tokens at fake time 0.
    if (has < burst) expect((await take(key, rate, burst, burst - has, 0)).granted).toBe(burst - has);
    const reply = await take(key, rate, burst, need, 0, { demand, extra, keep });
    expect(reply.granted).toBe(granted);
  });

  it('answers the wait in microseconds until `need` fits', async () => {
    const key = freshKey();
    expect((await take(key, 10, 2, 2, 0)).granted).toBe(2);
    expect(await take(key, 10, 2, 1, 30)).toEqual({ granted: 0, waitUs: 70_000 });
    expect(await take(key, 10, 2, 2, 30)).toEqual({ granted: 0, waitUs: 170_000 });
  });

  it('lets an idle bucket expire when it would be full again (+1 ms), and a probe (need 0) writes nothing', async () => {
    const key = freshKey();
    await runTokenBucketScript(redis, key, { interval: 1e6 / 1_000, burst: 5, need: 0, demand: 0, extra: 0, keep: 0 });
    expect(await redis.call('EXISTS', key)).toBe(0);
    // Server time now: at rate 1/s, 5 tokens are back in 5 s, and the key expires then (+1 ms). Seconds,
    // not milliseconds, so that a busy machine between the two commands cannot let the key expire first.
    await runTokenBucketScript(redis, key, { interval: 1e6, burst: 5, need: 5, demand: 5, extra: 0, keep: 0 });
    const ttl = Number(await redis.call('PTTL', key));
    expect(ttl).toBeGreaterThan(2_500);
    expect(ttl).toBeLessThanOrEqual(5_001);
  });

  it('sets no TTL on fake time: the server would count it down on its own clock, between two fake instants', async () => {
    const key = freshKey();
    // Rate 200, burst 1: on server time the key would live 6 ms, less than a busy machine takes between commands.
    expect((await take(key, 200, 1, 1, 0)).granted).toBe(1);
    expect(Number(await redis.call('PTTL', key))).toBe(-1);
    expect((await take(key, 200, 1, 1, 0)).granted).toBe(0);
  });

  it('loads the script again after SCRIPT FLUSH (NOSCRIPT falls back to EVAL)', async () => {
    await redis.call('SCRIPT', 'FLUSH');
    expect(await redis.call('SCRIPT', 'EXISTS', TOKEN_BUCKET_SHA)).toEqual([0]);
    expect((await take(freshKey(), 10, 1, 1, 0)).granted).toBe(1);
    expect(await redis.call('SCRIPT', 'EXISTS', TOKEN_BUCKET_SHA)).toEqual([1]);
    expect(TOKEN_BUCKET_SCRIPT).toContain("redis.call('TIME')");
  });

  it('rejects on a Redis error (the bucket then falls back), e.g. a key of another type', async () => {
    const key = freshKey();
    await redis.call('HSET', key, 'a', '1');
    await expect(take(key, 10, 1, 1, 0)).rejects.toThrow(/WRONGTYPE/);
  });
});
