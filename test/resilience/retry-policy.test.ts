import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { retryPolicy } from '../../src/resilience/retry-policy.js';
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
