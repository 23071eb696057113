import type { Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import { keySet, knownKeys, unreadableOptions } from '../validate.js';
import { REQUESTS } from './cost.js';
import { isLimiter, type Limiter } from './limiter.js';
import { Quota } from './quota.js';
import { isTokenBucket, TokenBucket, type TokenBucketOptions } from './token-bucket.js';

/** One limit of a client, given as options: `{ rate, per, burst }` (`per` in ms, 1 000 by default). */
export type ClientLimitOptions = Omit<TokenBucketOptions, 'clock' | 'maxWait'>;

/** One limit of the pool, given as options: `{ rate, per, burst, maxWait }`. */
export type PoolLimitOptions = Omit<TokenBucketOptions, 'clock'>;

/**
 * Several limits at once, by the name of what each counts: `{ requests: { rate: 50 }, tokens: { rate:
 * 40_000, per: 60_000 }, usd: { rate: 20, per: 86_400_000 } }`. A call's `cost` says how much of each it
 * takes (`requests` 1 unless it says otherwise); each value is bucket options, a `TokenBucket`, or a
 * `Limiter` (a Redis bucket shared by a fleet).
 */
export type Limits<O> = { readonly [name: string]: O | TokenBucket | Limiter };

/** The keys of one limit's options: an object with any of them is one limit (of `requests`), not limits by name. */
const POOL_BUCKET_KEYS = keySet(['rate', 'per', 'burst', 'maxWait']);
const CLIENT_BUCKET_KEYS = keySet(['rate', 'per', 'burst']);

/**
 * The quota of a `limit` option: one limit (bucket options, a `TokenBucket`, a `Limiter`) counting
 * `requests`, or limits by name. `scope` says whose: the pool's takes `maxWait`, a client's does not.
 * @throws InvalidOptionError naming the option (`limit.tokens.rate`) for anything else.
 */
export function quotaOption(option: string, value: unknown, clock: Clock, scope: 'pool' | 'client'): Quota | undefined {
  if (value === undefined) return undefined;
  try {
    return readQuota(option, value, clock, scope);
  } catch (error) {
    // A Proxy or getter that throws where a limit is recognised (`take`, the bucket's brand): a bad option.
    throw unreadableOptions(option, value, error);
  }
}

function readQuota(option: string, value: unknown, clock: Clock, scope: 'pool' | 'client'): Quota {
  const keys = scope === 'pool' ? POOL_BUCKET_KEYS : CLIENT_BUCKET_KEYS;
  const limits = new Map<string, { readonly bucket: TokenBucket } | { readonly limiter: Limiter }>();
  if (isOneLimit(option, value, keys)) {
    limits.set(REQUESTS, oneLimit(option, value, clock, keys));
  } else {
    let names: string[];
    try {
      names = Object.keys(value as object);
    } catch (error) {
      throw unreadableOptions(option, value, error);
    }
    for (const name of names) {
      let limit: unknown;
      try {
        limit = (value as Record<string, unknown>)[name];
      } catch (error) {
        throw unreadableOptions(`${option}.${name}`, value, error);
      }
      limits.set(name, oneLimit(`${option}.${name}`, limit, clock, keys));
    }
  }
  return new Quota(limits);
}

/** Whether `value` is one limit rather than limits by name: a bucket, a limiter, or options with a bucket's keys. */
function isOneLimit(option: string, value: unknown, keys: ReadonlySet<string>): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(option, 'bucket options ({ rate, per, burst }), a Limiter, or limits by name', value);
  if (isTokenBucket(value) || isLimiter(value)) return true;
  let names: string[];
  try {
    names = Object.keys(value);
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
  // `{}` is a bucket missing its rate, and is refused as such.
  return names.length === 0 || names.some((key) => keys.has(key) || key === 'rate');
}

function oneLimit(option: string, value: unknown, clock: Clock, keys: ReadonlySet<string>): { readonly bucket: TokenBucket } | { readonly limiter: Limiter } {
  let isShared: boolean;
  try {
    // By brand, so that a bucket of the other build (ESM or CommonJS) is still routed around.
    if (isTokenBucket(value)) return { bucket: value };
    isShared = isLimiter(value);
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
  if (isShared) return { limiter: value as Limiter };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(option, 'bucket options ({ rate, per, burst }), a TokenBucket or a Limiter', value);
  knownKeys(option, value, keys);
  return { bucket: new TokenBucket({ ...(value as TokenBucketOptions), clock }, option) };
}
