import { hedgePolicy, type HedgeOptions, type HedgePolicy } from './hedge-policy.js';
import { retryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.js';

/**
 * Retry and hedge policies given per call (`run(fn, { retry })`), validated once per options object: a
 * caller that keeps its options in a constant pays for the validation once, not per call. The cache is
 * weak, so options made per call cost what validating them costs and leave nothing behind.
 */
export class CallPolicies {
  readonly #retries = new WeakMap<RetryOptions, RetryPolicy>();
  readonly #hedges = new WeakMap<HedgeOptions, HedgePolicy>();
  readonly #hedgePolicy: (option: HedgeOptions, prefix: string) => HedgePolicy | undefined;
  // The last options seen: a caller with one constant skips even the WeakMap lookup.
  #lastRetry: RetryOptions | undefined;
  #lastRetryPolicy: RetryPolicy | undefined;

  /** `hedgePolicy` validates a hedge option (the pool's, which also turns timing on for quantile delays). */
  constructor(hedge: (option: HedgeOptions, prefix: string) => HedgePolicy | undefined = hedgePolicy) {
    this.#hedgePolicy = hedge;
  }

  retry(option: RetryOptions | false): RetryPolicy | undefined {
    if (option === this.#lastRetry) return this.#lastRetryPolicy;
    if (option === false || typeof option !== 'object' || option === null) return retryPolicy(option);
    let policy = this.#retries.get(option);
    if (policy === undefined) this.#retries.set(option, (policy = retryPolicy(option)!));
    this.#lastRetry = option;
    this.#lastRetryPolicy = policy;
    return policy;
  }

  hedge(option: HedgeOptions | false): HedgePolicy | undefined {
    if (option === false) return undefined;
    // Not an object: validation throws, naming the option.
    if (typeof option !== 'object' || option === null) return this.#hedgePolicy(option, 'hedge');
    let policy = this.#hedges.get(option);
    if (policy === undefined) this.#hedges.set(option, (policy = this.#hedgePolicy(option, 'hedge')!));
    return policy;
  }
}
