import { describe, expect, it } from 'vitest';
import { isLimiter } from '../../src/limit/limiter.js';
import { TokenBucket } from '../../src/limit/token-bucket.js';

describe('isLimiter', () => {
  it('is true for anything with a take function: a bucket, a Redis limiter, your own', () => {
    expect(isLimiter(new TokenBucket({ rate: 1 }))).toBe(true);
    expect(isLimiter({ take: () => Promise.resolve() })).toBe(true);
  });

  it.each([[undefined], [null], [{ rate: 10 }], [{ take: 1 }], ['take'], [() => undefined]])('is false for %j (token-bucket options, say)', (value) => {
    expect(isLimiter(value)).toBe(false);
  });
});
