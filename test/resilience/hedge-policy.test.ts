import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { hedgePolicy } from '../../src/resilience/hedge-policy.js';
import { MAX_DURATION_MS } from '../../src/validate.js';

describe('hedgePolicy durations', () => {
  it('accepts delays up to 2^31-1 ms, the longest Node timer', () => {
    expect(hedgePolicy({ delay: MAX_DURATION_MS })).toMatchObject({ fixed: MAX_DURATION_MS });
    expect(hedgePolicy({ delay: { quantile: 0.9, min: MAX_DURATION_MS, max: MAX_DURATION_MS } })).toMatchObject({ min: MAX_DURATION_MS, max: MAX_DURATION_MS });
  });

  it.each([
    ['hedge.delay', { delay: MAX_DURATION_MS + 1 }],
    ['hedge.delay.min', { delay: { quantile: 0.9, min: MAX_DURATION_MS + 1 } }],
    ['hedge.delay.max', { delay: { quantile: 0.9, max: MAX_DURATION_MS + 1 } }],
  ])('refuses %s above 2^31-1 ms', (option, options) => {
    const create = (): unknown => hedgePolicy(options);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(`${option} must be a duration in ms >= 0 and <= ${MAX_DURATION_MS}, got ${MAX_DURATION_MS + 1}`);
  });
});
