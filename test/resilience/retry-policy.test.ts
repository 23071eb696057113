import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { backoffDelay, retryPolicy, type BackoffOptions, type RetryPolicy } from '../../src/resilience/retry-policy.js';
import { hedgePolicy } from '../../src/resilience/hedge-policy.js';
import { MAX_DURATION_MS } from '../../src/validate.js';

/** The default `retryAfter` of a policy. */
const retryAfter = retryPolicy({})!.retryAfter;

/** An error carrying `fields`. */
function failure(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('upstream'), fields);
}

/** A chain of `length` errors, the one at `at` (0 = outermost) carrying `retryAfterMs: 500`. */
function chain(length: number, at: number): Error {
  let error: Error | undefined;
  for (let depth = length - 1; depth >= 0; depth--) error = failure({ cause: error, ...(depth === at ? { retryAfterMs: 500 } : {}) });
  return error!;
}

describe('the default retryAfter', () => {
  it("reads the error's own retryAfterMs", () => {
    expect(retryAfter(failure({ retryAfterMs: 250 }))).toBe(250);
  });

  it('finds retryAfterMs along the cause chain', () => {
    expect(retryAfter(chain(5, 3))).toBe(500);
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['a string', '250'],
  ])('passes over a %s retryAfterMs and keeps looking down the chain', (_label, bad) => {
    expect(retryAfter(failure({ retryAfterMs: bad, cause: failure({ retryAfterMs: 7 }) }))).toBe(7);
  });

  it('a retryAfterMs of 0 is a retry-after: the first one found, even with a longer one down the chain', () => {
    expect(retryAfter(failure({ retryAfterMs: 0 }))).toBe(0);
    expect(retryAfter(failure({ retryAfterMs: 0, cause: failure({ retryAfterMs: 7 }) }))).toBe(0);
  });

  it('reads retryAfterMs only from objects: a cause that is a function ends the walk', () => {
    const cause = Object.assign(() => undefined, { retryAfterMs: 7 });
    expect(retryAfter(failure({ cause }))).toBeUndefined();
  });

  it('ends on a cyclic cause chain, with no retry-after', () => {
    const a = failure({});
    const b = failure({});
    a.cause = b;
    // b.cause = a, counting the walk's reads; the throw keeps an unbounded walk from hanging the test.
    let reads = 0;
    Object.defineProperty(b, 'cause', {
      get(): Error {
        if (++reads > 1_000) throw new Error('the walk does not end');
        return a;
      },
    });
    expect(retryAfter(a)).toBeUndefined();
    expect(reads).toBeLessThanOrEqual(8);
  });

  it('follows at most 16 links of the chain', () => {
    expect(retryAfter(chain(20, 15))).toBe(500);
    expect(retryAfter(chain(20, 16))).toBeUndefined();
  });

  it('a getter that throws means no retry-after', () => {
    const error = new Error('upstream');
    Object.defineProperty(error, 'retryAfterMs', {
      get(): never {
        throw new Error('getter');
      },
    });
    expect(retryAfter(error)).toBeUndefined();
  });

  it('a cause that throws on every trap means no retry-after', () => {
    const fail = (): never => {
      throw new Error('trap');
    };
    const cause = new Proxy({}, { get: fail, has: fail, getPrototypeOf: fail });
    expect(retryAfter(failure({ cause }))).toBeUndefined();
  });
});

describe('retryPolicy backoff durations', () => {
  it('accepts up to 2^31-1 ms, the longest Node timer', () => {
    expect(retryPolicy({ backoff: { initial: MAX_DURATION_MS, max: MAX_DURATION_MS } })).toMatchObject({ initial: MAX_DURATION_MS, max: MAX_DURATION_MS });
  });

  it.each([
    ['retry.backoff.initial', { initial: MAX_DURATION_MS + 1, max: MAX_DURATION_MS + 1 }],
    ['retry.backoff.max', { max: MAX_DURATION_MS + 1 }],
  ])('refuses %s above 2^31-1 ms', (option, backoff) => {
    const create = (): unknown => retryPolicy({ backoff });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(`${option} must be a duration in ms >= 0 and <= ${MAX_DURATION_MS}, got ${MAX_DURATION_MS + 1}`);
  });

  it('keeps a retryAfter given in the options', () => {
    const own = (): number => 3;
    expect(retryPolicy({ retryAfter: own })!.retryAfter).toBe(own);
  });
});

describe('misspelt or misplaced retry and hedge options are refused', () => {
  it.each([
    ['retry.initial (belongs in backoff)', () => retryPolicy({ initial: 0 } as never), /retry\.initial must be one of the known options/],
    ['retry.backoff.maximum', () => retryPolicy({ backoff: { maximum: 10 } } as never), /retry\.backoff\.maximum must be one of the known options/],
    ['hedge.delays', () => hedgePolicy({ delay: 10, delays: 5 } as never), /hedge\.delays must be one of the known options/],
    ['hedge.delay.p', () => hedgePolicy({ delay: { quantile: 0.9, p: 0.5 } } as never), /hedge\.delay\.p must be one of the known options/],
  ])('%s throws InvalidOptionError', (_name, make, message) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(message);
  });
});

/** A policy with `backoff`, and a source that always draws `r`. */
function backoff(options: BackoffOptions): RetryPolicy {
  return retryPolicy({ backoff: options })!;
}
const draws = (r: number) => (): number => r;

describe('backoffDelay', () => {
  it('without jitter grows from initial by the multiplier per attempt, capped at max', () => {
    const policy = backoff({ initial: 100, multiplier: 3, max: 1_000, jitter: 'none' });
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, 0, draws(0.5)))).toEqual([100, 300, 900, 1_000]);
  });

  it('with a delay exactly at max, that delay', () => {
    expect(backoffDelay(backoff({ initial: 100, multiplier: 2, max: 200, jitter: 'none' }), 2, 0, draws(0.5))).toBe(200);
  });

  it('full jitter draws uniformly in [0, the exponential delay]', () => {
    const policy = backoff({ initial: 100, multiplier: 2, max: 10_000, jitter: 'full' });
    expect(backoffDelay(policy, 3, 0, draws(0.25))).toBe(100);
    expect(backoffDelay(policy, 3, 0, draws(0))).toBe(0);
  });

  it('is full jitter by default, from 50 ms doubling', () => {
    const policy = retryPolicy({})!;
    expect(policy).toMatchObject({ attempts: 3, initial: 50, max: 2_000, multiplier: 2, jitter: 'full', retryOn: undefined });
    expect(backoffDelay(policy, 2, 0, draws(0.5))).toBe(50);
  });

  it('decorrelated jitter draws uniformly in [initial, 3 x the previous delay]', () => {
    const policy = backoff({ initial: 100, max: 10_000, jitter: 'decorrelated' });
    expect(backoffDelay(policy, 2, 400, draws(0))).toBe(100);
    expect(backoffDelay(policy, 2, 400, draws(0.5))).toBe(650);
    expect(backoffDelay(policy, 2, 400, draws(1))).toBe(1_200);
  });

  it('decorrelated jitter never goes below initial, even after a short delay', () => {
    const policy = backoff({ initial: 100, max: 10_000, jitter: 'decorrelated' });
    expect(backoffDelay(policy, 2, 10, draws(0.5))).toBe(100);
  });

  it('decorrelated jitter is capped at max', () => {
    const policy = backoff({ initial: 100, max: 1_000, jitter: 'decorrelated' });
    expect(backoffDelay(policy, 5, 900, draws(0.9))).toBe(1_000);
  });

  it('a zero initial delay stays zero however steep the growth', () => {
    const policy = backoff({ initial: 0, multiplier: 1e300, max: 1_000, jitter: 'none' });
    expect(backoffDelay(policy, 4, 0, draws(0.5))).toBe(0);
  });

  it('a growth that overflows is the cap', () => {
    const policy = backoff({ initial: 1, multiplier: 1e300, max: 1_000, jitter: 'none' });
    expect(backoffDelay(policy, 4, 0, draws(0.5))).toBe(1_000);
  });
});

describe('retryPolicy', () => {
  it('is off for undefined and false', () => {
    expect(retryPolicy(undefined)).toBeUndefined();
    expect(retryPolicy(false)).toBeUndefined();
  });

  it('keeps what it is given', () => {
    const retryOn = (): boolean => true;
    expect(retryPolicy({ attempts: 5, retryOn, backoff: { initial: 10, max: 10, multiplier: 0, jitter: 'decorrelated' } })).toMatchObject({
      attempts: 5,
      initial: 10,
      max: 10,
      multiplier: 0,
      jitter: 'decorrelated',
      retryOn,
    });
    expect(retryPolicy({ backoff: { jitter: 'none' } })!.jitter).toBe('none');
  });

  it.each([
    ['a non-object', () => retryPolicy(3 as never, 'methods.m.retry'), 'methods.m.retry must be an options object, got 3'],
    ['a non-object backoff', () => retryPolicy({ backoff: 3 as never }), 'retry.backoff must be an options object, got 3'],
    ['an unknown jitter', () => retryPolicy({ backoff: { jitter: 'half' as never } }), 'retry.backoff.jitter must be one of "full", "decorrelated", "none", got "half"'],
    ['max below initial', () => retryPolicy({ backoff: { initial: 100, max: 99 } }), 'retry.backoff.max must be >= backoff.initial (100), got 99'],
    ['max below the default initial', () => retryPolicy({ backoff: { max: 49 } }), 'retry.backoff.max must be >= backoff.initial (50), got 49'],
    ['initial above the default max', () => retryPolicy({ backoff: { initial: 2_001 } }), 'retry.backoff.max must be >= backoff.initial (2001), got 2000'],
    ['a negative multiplier', () => retryPolicy({ backoff: { multiplier: -1 } }), 'retry.backoff.multiplier must be a finite number >= 0, got -1'],
    ['attempts 0', () => retryPolicy({ attempts: 0 }), 'retry.attempts must be an integer >= 1, got 0'],
    ['a retryOn that is not a function', () => retryPolicy({ retryOn: true as never }), 'retry.retryOn must be a function, got true'],
    ['a retryAfter that is not a function', () => retryPolicy({ retryAfter: 5 as never }), 'retry.retryAfter must be a function, got 5'],
  ])('refuses %s, naming the option', (_name, make, message) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(message);
  });
});

describe('retryPolicy: only undefined means not given', () => {
  it.each([
    ['attempts', { attempts: null }],
    ['backoff', { backoff: null }],
    ['backoff.initial', { backoff: { initial: null } }],
    ['backoff.max', { backoff: { max: null } }],
    ['backoff.multiplier', { backoff: { multiplier: null } }],
    ['backoff.jitter', { backoff: { jitter: null } }],
  ])('%s: null is refused with InvalidOptionError, not taken as the default', (option, given) => {
    expect(() => retryPolicy(given as never)).toThrow(InvalidOptionError);
    expect(() => retryPolicy(given as never)).toThrow(option);
  });

  it('undefined fields take the defaults', () => {
    expect(retryPolicy({ attempts: undefined, backoff: { initial: undefined } } as never)).toMatchObject({ attempts: 3, initial: 50, max: 2_000, multiplier: 2, jitter: 'full' });
  });
});
