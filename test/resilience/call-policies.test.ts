import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { CallPolicies } from '../../src/resilience/call-policies.js';
import { hedgePolicy, type HedgeOptions } from '../../src/resilience/hedge-policy.js';
import type { RetryOptions } from '../../src/resilience/retry-policy.js';

describe('CallPolicies', () => {
  it('validates a retry options object once: the same object gives the same policy', () => {
    const policies = new CallPolicies();
    const a: RetryOptions = { attempts: 2 };
    const b: RetryOptions = { attempts: 4 };
    const policyA = policies.retry(a)!;
    expect(policyA.attempts).toBe(2);
    expect(policies.retry(a)).toBe(policyA);
    const policyB = policies.retry(b)!;
    expect(policyB.attempts).toBe(4);
    expect(policies.retry(a)).toBe(policyA);
    expect(policies.retry(b)).toBe(policyB);
  });

  it('retry: false is no retry, after any other options too', () => {
    const policies = new CallPolicies();
    policies.retry({ attempts: 2 });
    expect(policies.retry(false)).toBeUndefined();
    expect(policies.retry(false)).toBeUndefined();
  });

  it('a retry option that is not an object throws, naming it', () => {
    const policies = new CallPolicies();
    for (const bad of [null, 3]) {
      expect(() => policies.retry(bad as never)).toThrow(InvalidOptionError);
      expect(() => policies.retry(bad as never)).toThrow(/^retry must be/);
    }
  });

  it('validates a hedge options object once, with the validator it was given', () => {
    const seen: [HedgeOptions, string][] = [];
    const policies = new CallPolicies((option, prefix) => {
      seen.push([option, prefix]);
      return hedgePolicy(option, prefix);
    });
    const option: HedgeOptions = { delay: 10 };
    const policy = policies.hedge(option)!;
    expect(policy).toMatchObject({ maxHedges: 1, fixed: 10 });
    expect(policies.hedge(option)).toBe(policy);
    expect(seen).toEqual([[option, 'hedge']]);
    expect(policies.hedge(false)).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('a hedge option that is not an object throws, naming it', () => {
    const policies = new CallPolicies();
    for (const bad of [null, 5]) expect(() => policies.hedge(bad as never)).toThrow(/^hedge must be/);
  });
});
