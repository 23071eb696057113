import { describe, expect, it } from 'vitest';
import { PoolClosedError, TokenBucket, type TokenBucketOptions } from '../../src/index.js';
import { expectInvalid, thrownBy } from '../helpers/bad-input.js';

describe('TokenBucket with bad input', () => {
  const badOptions: [string, unknown, string, unknown][] = [
    ['options undefined', undefined, 'limit', undefined],
    ['options null', null, 'limit', null],
    ['options a number', 5, 'limit', 5],
    ['rate 0', { rate: 0 }, 'limit.rate', 0],
    ['rate Infinity', { rate: Infinity }, 'limit.rate', Infinity],
    ['rate string', { rate: '10' }, 'limit.rate', '10'],
    ['burst 0', { rate: 1, burst: 0 }, 'limit.burst', 0],
    ['burst NaN', { rate: 1, burst: Number.NaN }, 'limit.burst', Number.NaN],
    ['burst Infinity', { rate: 1, burst: Infinity }, 'limit.burst', Infinity],
    ['maxWait NaN', { rate: 1, maxWait: Number.NaN }, 'limit.maxWait', Number.NaN],
    ['maxWait Infinity', { rate: 1, maxWait: Infinity }, 'limit.maxWait', Infinity],
  ];
  it.each(badOptions.map(([label, options, option, value]) => [label, option, options, value] as const))('new TokenBucket: %s gives InvalidOptionError naming %s', (_label, option, options, value) => {
    expectInvalid(
      thrownBy(() => new TokenBucket(options as TokenBucketOptions)),
      option,
      value,
    );
  });

  it.each([
    ['NaN', Number.NaN],
    ['0', 0],
    ['negative', -1],
    ['more than burst', 3],
  ] as const)('take(%s) rejects InvalidOptionError naming tokens, and takes nothing', async (_label, n) => {
    let now = 0;
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => now } });
    expectInvalid(await bucket.take(n).catch((e: unknown) => e), 'tokens', n);
    expect(bucket.available).toBe(2);
    await expect(bucket.take(2)).resolves.toBeUndefined();
    now += 100;
    expect(bucket.available).toBe(1);
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
  ] as const)('pause(%s) throws InvalidOptionError naming pause, and leaves the bucket as it was', (_label, ms) => {
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
    expectInvalid(
      thrownBy(() => bucket.pause(ms)),
      'pause',
      ms,
    );
    expect(bucket.available).toBe(2);
  });

  it('after close(), take rejects PoolClosedError', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
    bucket.close();
    await expect(bucket.take(1)).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('tryTake with NaN or a negative count takes nothing, and the bucket grants what it would have', () => {
    const clock = { now: () => 0 };
    const poisoned = new TokenBucket({ rate: 1, burst: 2, clock });
    thrownBy(() => poisoned.tryTake(Number.NaN));
    let granted = 0;
    for (let i = 0; i < 10; i++) if (poisoned.tryTake(1)) granted++;
    const refilled = new TokenBucket({ rate: 1, burst: 2, clock });
    refilled.tryTake(2);
    thrownBy(() => refilled.tryTake(-5));
    let regranted = 0;
    for (let i = 0; i < 10; i++) if (refilled.tryTake(1)) regranted++;
    // Before the fix: Actual: after tryTake(NaN) every tryTake succeeds (10) and `available` is
    // NaN; after tryTake(-5) the spent bucket grants 2 more at the same instant. (take() refuses both.)
    expect({ granted, regranted, available: poisoned.available }).toEqual({ granted: 2, regranted: 0, available: 0 });
  });

  it('take with a bad signal, maxWait or options rejects InvalidOptionError, never throws', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
    const takes: [string, () => Promise<void>, string][] = [
      ['signal', () => bucket.take(1, { signal: {} as never }), 'signal'],
      ['maxWait', () => bucket.take(1, { maxWait: -1 }), 'maxWait'],
      ['options null (a raw TypeError)', () => bucket.take(1, null as never), 'take options'],
    ];
    for (const [, take, option] of takes) {
      let result: Promise<void> | undefined;
      // Before the fix: each of these throws (the last a TypeError) instead of returning a rejection.
      expect(() => (result = take())).not.toThrow();
      expectInvalid(await result!.catch((e: unknown) => e), option);
    }
  });
});
