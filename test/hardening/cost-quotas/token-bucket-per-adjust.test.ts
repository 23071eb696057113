// Attack: TokenBucket's new `per` option and `adjust(n)` with odd inputs.
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

describe('TokenBucket per', () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000'])('refuses per = %s naming limit.per', (per) => {
    expect(() => new TokenBucket({ rate: 1, per: per as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'limit.per' }));
  });

  it('rate 10 per minute refills one token every 6 s, exactly', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, per: 60_000, clock });
    expect(bucket.tryTake(10)).toBe(true);
    clock.advance(5_999);
    expect(bucket.tryTake(1)).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake(1)).toBe(true);
  });

  it('per of 2^31-1 ms with rate 1: the wait for the next token fits maxWait of 2^31-1', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 1, per: 2 ** 31 - 1, clock });
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.waitTime(1)).toBe(2 ** 31 - 1);
    await expect(bucket.take(1, { maxWait: 1_000 })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: 2 ** 31 - 1 });
    bucket.close();
  });
});

describe('TokenBucket adjust', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '5', undefined])('ignores adjust(%s) without throwing', (n) => {
    const bucket = new TokenBucket({ rate: 10, clock: new ManualClock() });
    expect(() => bucket.adjust(n as number)).not.toThrow();
    expect(bucket.available).toBe(10);
  });

  it('a refund wakes a waiter at once', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 1, per: 60_000, burst: 10, clock });
    expect(bucket.tryTake(10)).toBe(true);
    let isServed = false;
    const waiting = bucket.take(5, { maxWait: 600_000 }).then(() => (isServed = true));
    bucket.adjust(-5);
    await Promise.resolve();
    await Promise.resolve();
    expect(isServed).toBe(true);
    await waiting;
    bucket.close();
  });

  it('a charge of 2^60 leaves the bucket usable again within 2^31-1 ms plus a token', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, clock });
    bucket.adjust(2 ** 60);
    expect(bucket.available).toBe(0);
    clock.advance(2 ** 31 - 1 + 1_000);
    expect(bucket.tryTake(1)).toBe(true);
  });

  it('adjust after close() changes nothing and does not throw', () => {
    const bucket = new TokenBucket({ rate: 10, clock: new ManualClock() });
    bucket.close();
    expect(() => bucket.adjust(-3)).not.toThrow();
  });
});
