import { InvalidOptionError } from '../errors.js';
import { unreadableOptions } from '../validate.js';

// What the metrics adapters read of a Redis-shared bucket, declared structurally: neither
// `clientpool/prometheus` nor `clientpool/otel` loads `clientpool/redis` (or prom-client, from here).

/**
 * The counters of a shared bucket, as `RedisTokenBucket.stats` returns them (`clientpool/redis`): every
 * field but `mode` and `reserve` only grows.
 */
export interface RedisBucketStatsLike {
  /** `'redis'`, `'fallback'` (serving from the local insurance bucket) or `'closed'`. */
  readonly mode: string;
  readonly roundTrips: number;
  readonly failures: number;
  readonly fallbacks: number;
  readonly redisTokens: number;
  readonly leasedTokens: number;
  readonly expiredTokens: number;
  readonly localTokens: number;
  readonly reserve: number;
}

/** What the metrics read of a bucket: a `RedisTokenBucket` fits, or anything of its shape. */
export interface RedisBucketLike {
  readonly key: string;
  /** Read at collection only. */
  readonly stats: RedisBucketStatsLike;
}

/**
 * The bucket's key, checked; `stats` is only looked for (its getter runs at collection).
 * @throws InvalidOptionError naming `bucket` when it is not an object with a non-empty string `key` and a `stats` property.
 */
export function bucketKey(bucket: unknown): string {
  const expected = 'a RedisTokenBucket, or an object with a non-empty string key and stats';
  if (typeof bucket !== 'object' || bucket === null) throw new InvalidOptionError('bucket', expected, bucket);
  let key: unknown;
  let hasStats: boolean;
  try {
    key = (bucket as { key?: unknown }).key;
    hasStats = 'stats' in bucket;
  } catch (error) {
    throw unreadableOptions('bucket', bucket, error);
  }
  if (typeof key !== 'string' || key === '' || !hasStats) throw new InvalidOptionError('bucket', expected, bucket);
  return key;
}

/** A plain copy of `stats`, each field read once; throws if one is not what a bucket's stats hold. */
export function checkedStats(value: unknown): RedisBucketStatsLike {
  if (typeof value !== 'object' || value === null) throw new TypeError(`stats must be an object, got ${typeof value}`);
  const raw = value as Record<keyof RedisBucketStatsLike, unknown>;
  const mode = raw.mode;
  if (mode !== 'redis' && mode !== 'fallback' && mode !== 'closed') throw new TypeError(`stats.mode must be 'redis', 'fallback' or 'closed', got ${String(mode)}`);
  const count = (field: Exclude<keyof RedisBucketStatsLike, 'mode'>): number => {
    const read = raw[field];
    if (typeof read !== 'number' || !(read >= 0) || read === Number.POSITIVE_INFINITY) throw new TypeError(`stats.${field} must be a finite number >= 0, got ${String(read)}`);
    return read;
  };
  return {
    mode,
    roundTrips: count('roundTrips'),
    failures: count('failures'),
    fallbacks: count('fallbacks'),
    redisTokens: count('redisTokens'),
    leasedTokens: count('leasedTokens'),
    expiredTokens: count('expiredTokens'),
    localTokens: count('localTokens'),
    reserve: count('reserve'),
  };
}
