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

describe('hedgePolicy', () => {
  it('is off for undefined and false', () => {
    expect(hedgePolicy(undefined)).toBeUndefined();
    expect(hedgePolicy(false)).toBeUndefined();
  });

  it('a fixed delay: one hedge by default, no quantile', () => {
    expect(hedgePolicy({ delay: 25 })).toEqual({ maxHedges: 1, fixed: 25, quantile: Number.NaN, min: 0, max: 0 });
    expect(hedgePolicy({ delay: 0, maxHedges: 3 })).toEqual({ maxHedges: 3, fixed: 0, quantile: Number.NaN, min: 0, max: 0 });
  });

  it('a quantile delay: bounded by min 0 and max 1 000 by default', () => {
    expect(hedgePolicy({ delay: { quantile: 0.95 } })).toEqual({ maxHedges: 1, fixed: Number.NaN, quantile: 0.95, min: 0, max: 1_000 });
    expect(hedgePolicy({ delay: { quantile: 0, min: 5, max: 5 } })).toEqual({ maxHedges: 1, fixed: Number.NaN, quantile: 0, min: 5, max: 5 });
    expect(hedgePolicy({ delay: { quantile: 1 } })).toMatchObject({ quantile: 1 });
  });

  it.each([
    ['a non-object', () => hedgePolicy(5 as never, 'methods.m.hedge'), 'methods.m.hedge must be an options object, got 5'],
    ['no delay', () => hedgePolicy({} as never), 'hedge.delay must be a number of ms or { quantile }, got undefined'],
    ['a null delay', () => hedgePolicy({ delay: null } as never), 'hedge.delay must be a number of ms or { quantile }, got null'],
    ['a string delay', () => hedgePolicy({ delay: '5' } as never), 'hedge.delay must be a number of ms or { quantile }, got "5"'],
    ['maxHedges 0', () => hedgePolicy({ delay: 5, maxHedges: 0 }), 'hedge.maxHedges must be an integer >= 1, got 0'],
    ['a quantile above 1', () => hedgePolicy({ delay: { quantile: 1.5 } }), 'hedge.delay.quantile must be a number from 0 to 1, got 1.5'],
    ['max below min', () => hedgePolicy({ delay: { quantile: 0.5, min: 10, max: 9 } }), 'hedge.delay.max must be >= delay.min (10), got 9'],
    ['an unknown delay key', () => hedgePolicy({ delay: { quantile: 0.5, mean: 1 } } as never), 'hedge.delay.mean must be one of the known options (quantile, min, max)'],
    ['an unknown key', () => hedgePolicy({ delay: 5, hedges: 1 } as never), 'hedge.hedges must be one of the known options (delay, maxHedges)'],
  ])('refuses %s, naming the option', (_name, make, message) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(message);
  });
});

describe('hedgePolicy: only undefined means not given', () => {
  it.each([
    ['maxHedges', { delay: 10, maxHedges: null }],
    ['delay.min', { delay: { quantile: 0.9, min: null } }],
    ['delay.max', { delay: { quantile: 0.9, max: null } }],
  ])('%s: null is refused with InvalidOptionError, not taken as the default', (option, given) => {
    expect(() => hedgePolicy(given as never)).toThrow(InvalidOptionError);
    expect(() => hedgePolicy(given as never)).toThrow(option);
  });
});
