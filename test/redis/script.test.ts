import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/index.js';
import { ADJUST_SCRIPT, ADJUST_SHA, runAdjustScript, runTokenBucketScript, TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_SHA, type ScriptRequest } from '../../src/redis/script.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { describeWithEachIoredis, useRedisServer, type TestRedis } from './describe-with-redis.js';

// The script runs on a real server, on fake time (ARGV[8]) so that the arithmetic can be checked exactly.
// A realistic epoch in microseconds: 16 digits, more than Lua's default 14-digit number formatting keeps.
const EPOCH_US = 1_750_000_000_000_000;
/** The debt bound the bucket sends: 2^31-1 ms. */
const MAX_DEBT_US = (2 ** 31 - 1) * 1_000;

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
  /** Charge (n > 0) or refund (n < 0) at `ms` of fake time, with the bucket's debt bound (2^31-1 ms) unless told. */
  const adjust = (key: string, rate: number, burst: number, n: number, ms: number, maxDebtUs = MAX_DEBT_US) =>
    runAdjustScript(redis, key, { interval: 1e6 / rate, burst, n, maxDebtUs, nowUs: EPOCH_US + ms * 1_000 });

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

  it('takes fractional tokens exactly (a cost): 2.5 + 2.5 empty a bucket of 5, and half a token is 50 ms away at rate 10', async () => {
    const key = freshKey();
    expect(await take(key, 10, 5, 2.5, 0)).toEqual({ granted: 2.5, waitUs: 0 });
    expect(await take(key, 10, 5, 2.5, 0)).toEqual({ granted: 2.5, waitUs: 0 });
    expect(await take(key, 10, 5, 0.5, 0)).toEqual({ granted: 0, waitUs: 50_000 });
    expect((await take(key, 10, 5, 0.5, 50)).granted).toBe(0.5);
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

  describe('adjust (settling costs)', () => {
    it('a charge pushes the next take back by n intervals: 3 owed on an empty bucket at rate 10 is a 400 ms wait for one token', async () => {
      const key = freshKey();
      expect((await take(key, 10, 5, 5, 0)).granted).toBe(5);
      expect(await adjust(key, 10, 5, 3, 0)).toEqual({ movedUs: 300_000, fullInUs: 800_000 });
      expect(await take(key, 10, 5, 1, 0)).toEqual({ granted: 0, waitUs: 400_000 });
      expect(await take(key, 10, 5, 1, 399)).toEqual({ granted: 0, waitUs: 1_000 });
      expect((await take(key, 10, 5, 1, 400)).granted).toBe(1);
    });

    it('a charge on a full bucket takes its tokens at once', async () => {
      const key = freshKey();
      expect(await adjust(key, 10, 5, 3, 0)).toEqual({ movedUs: 300_000, fullInUs: 300_000 });
      expect((await take(key, 10, 5, 2, 0)).granted).toBe(2);
      expect((await take(key, 10, 5, 1, 0)).granted).toBe(0);
    });

    it('a refund lets the next take through at once', async () => {
      const key = freshKey();
      expect((await take(key, 10, 5, 5, 0)).granted).toBe(5);
      expect((await take(key, 10, 5, 2, 0)).granted).toBe(0);
      expect(await adjust(key, 10, 5, -2, 0)).toEqual({ movedUs: -200_000, fullInUs: 300_000 });
      expect((await take(key, 10, 5, 2, 0)).granted).toBe(2);
      expect((await take(key, 10, 5, 1, 0)).granted).toBe(0);
    });

    it('a refund never fills the bucket past burst: what does not fit is lost, and a full bucket is deleted', async () => {
      const key = freshKey();
      expect((await take(key, 10, 5, 2, 0)).granted).toBe(2);
      expect(await adjust(key, 10, 5, -10, 0)).toEqual({ movedUs: -200_000, fullInUs: 0 });
      expect(await redis.call('EXISTS', key)).toBe(0);
      expect(await adjust(key, 10, 5, -10, 0)).toEqual({ movedUs: 0, fullInUs: 0 });
      expect((await take(key, 10, 5, 5, 0)).granted).toBe(5);
      expect((await take(key, 10, 5, 1, 0)).granted).toBe(0);
    });

    it('a refund pays debt back first: a bucket 20 in debt refunded 15 is 5 in debt', async () => {
      const key = freshKey();
      expect((await take(key, 10, 5, 5, 0)).granted).toBe(5);
      await adjust(key, 10, 5, 20, 0);
      expect(await adjust(key, 10, 5, -15, 0)).toEqual({ movedUs: -1_500_000, fullInUs: 1_000_000 });
      expect(await take(key, 10, 5, 1, 0)).toEqual({ granted: 0, waitUs: 600_000 });
    });

    it('keeps fractional tokens exact: two charges of 0.5 are one token', async () => {
      const key = freshKey();
      expect((await take(key, 10, 2, 1, 0)).granted).toBe(1);
      await adjust(key, 10, 2, 0.5, 0);
      await adjust(key, 10, 2, 0.5, 0);
      expect(await take(key, 10, 2, 1, 0)).toEqual({ granted: 0, waitUs: 100_000 });
    });

    it('bounds debt at maxDebt past an empty bucket, and a charge never pulls back a state already beyond it', async () => {
      const key = freshKey();
      // 1 s of debt allowed: a charge of 10^12 tokens leaves the bucket full in 0.5 s + 1 s.
      expect(await adjust(key, 10, 5, 1e12, 0, 1_000_000)).toEqual({ movedUs: 1_500_000, fullInUs: 1_500_000 });
      expect(await take(key, 10, 5, 1, 0)).toEqual({ granted: 0, waitUs: 1_100_000 });
      // The bucket's own bound: 2^31-1 ms of debt at most, so a wait always fits a timer.
      const big = freshKey();
      expect((await adjust(big, 10, 5, 1e300, 0)).fullInUs).toBe(500_000 + MAX_DEBT_US);
      // A state written by a configuration with a larger burst (50 tokens: 5 s) is beyond this one's 1.5 s: kept.
      const other = freshKey();
      expect((await take(other, 10, 50, 50, 0)).granted).toBe(50);
      expect(await adjust(other, 10, 5, 3, 0, 1_000_000)).toEqual({ movedUs: 0, fullInUs: 5_000_000 });
    });

    it('keeps the PX expiry when the bucket would be full again (server time), and deletes a bucket refunded to full', async () => {
      const key = freshKey();
      // Rate 1/s: seconds, so that a busy machine between two commands cannot make the check flaky.
      await runAdjustScript(redis, key, { interval: 1e6, burst: 5, n: 3, maxDebtUs: MAX_DEBT_US });
      const ttl = Number(await redis.call('PTTL', key));
      expect(ttl).toBeGreaterThan(1_500);
      expect(ttl).toBeLessThanOrEqual(3_001);
      await runAdjustScript(redis, key, { interval: 1e6, burst: 5, n: 4, maxDebtUs: MAX_DEBT_US });
      expect(Number(await redis.call('PTTL', key))).toBeGreaterThan(ttl + 2_000);
      await runAdjustScript(redis, key, { interval: 1e6, burst: 5, n: -1, maxDebtUs: MAX_DEBT_US });
      expect(Number(await redis.call('PTTL', key))).toBeLessThanOrEqual(6_001);
      await runAdjustScript(redis, key, { interval: 1e6, burst: 5, n: -10, maxDebtUs: MAX_DEBT_US });
      expect(await redis.call('EXISTS', key)).toBe(0);
    });

    it('sets no TTL on fake time', async () => {
      const key = freshKey();
      await adjust(key, 200, 1, 1, 0);
      expect(Number(await redis.call('PTTL', key))).toBe(-1);
    });

    it('loads the adjust script again after SCRIPT FLUSH (NOSCRIPT falls back to EVAL)', async () => {
      await redis.call('SCRIPT', 'FLUSH');
      expect(await redis.call('SCRIPT', 'EXISTS', ADJUST_SHA)).toEqual([0]);
      expect((await adjust(freshKey(), 10, 5, 1, 0)).movedUs).toBe(100_000);
      expect(await redis.call('SCRIPT', 'EXISTS', ADJUST_SHA)).toEqual([1]);
      expect(ADJUST_SCRIPT).toContain("redis.call('TIME')");
    });

    it('rejects on a Redis error, e.g. a key of another type', async () => {
      const key = freshKey();
      await redis.call('HSET', key, 'a', '1');
      await expect(adjust(key, 10, 1, 1, 0)).rejects.toThrow(/WRONGTYPE/);
    });

    it('never lets more than burst + rate·t + refunds - charges through, whatever the takes and adjustments (property)', async () => {
      const rates = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1_000];
      const step = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.oneof(fc.integer({ min: 1, max: 20 }).map((n) => ({ take: n })), fc.integer({ min: -15, max: 15 }).map((n) => ({ adjust: n }))));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...rates), fc.integer({ min: 1, max: 20 }), fc.array(step, { minLength: 1, maxLength: 40 }), async (rate, burst, steps) => {
          const key = freshKey();
          let ms = 0;
          let passed = 0;
          let refunds = 0;
          let charges = 0;
          for (const [advance, op] of steps) {
            ms += advance;
            if ('adjust' in op) {
              await adjust(key, rate, burst, op.adjust, ms);
              if (op.adjust > 0) charges += op.adjust;
              else refunds -= op.adjust;
              continue;
            }
            const { granted } = await take(key, rate, burst, Math.min(op.take, burst), ms);
            passed += granted;
            // Checked when a take passes: with charges owed and nothing taken, the right side may be negative.
            if (granted > 0) expect(passed).toBeLessThanOrEqual(burst + (rate * ms) / 1_000 + refunds - charges + 1e-9);
          }
        }),
        { numRuns: 60 },
      );
    });

    it('decides exactly as the in-memory TokenBucket with its adjust() (model-based property)', async () => {
      const rates = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1_000];
      const step = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.oneof(fc.integer({ min: 1, max: 5 }).map((n) => ({ take: n })), fc.integer({ min: -8, max: 8 }).map((n) => ({ adjust: n }))));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...rates), fc.integer({ min: 1, max: 20 }), fc.array(step, { minLength: 1, maxLength: 40 }), async (rate, burst, steps) => {
          const key = freshKey();
          const clock = new ManualClock();
          const bucket = new TokenBucket({ rate, burst, clock });
          for (const [advance, op] of steps) {
            clock.advance(advance);
            if ('adjust' in op) {
              bucket.adjust(op.adjust);
              await adjust(key, rate, burst, op.adjust, clock.time);
              continue;
            }
            const n = Math.min(op.take, burst);
            const expectedWait = bucket.waitTime(n);
            const expected = bucket.tryTake(n);
            const reply = await take(key, rate, burst, n, clock.time);
            expect(reply.granted).toBe(expected ? n : 0);
            expect(reply.waitUs / 1_000).toBeCloseTo(expected ? 0 : expectedWait, 3);
          }
        }),
        { numRuns: 40 },
      );
    });
  });

  it('rejects on a Redis error (the bucket then falls back), e.g. a key of another type', async () => {
    const key = freshKey();
    await redis.call('HSET', key, 'a', '1');
    await expect(take(key, 10, 1, 1, 0)).rejects.toThrow(/WRONGTYPE/);
  });
});
