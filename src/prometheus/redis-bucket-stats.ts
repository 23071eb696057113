import { statsCount, statsMode, statsRecord, type StatsSourceKind } from './stats-source.js';

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

/** The counters the adapters export as they are, each a field of the stats. */
export const BUCKET_COUNTERS = ['roundTrips', 'failures', 'fallbacks', 'leasedTokens', 'expiredTokens'] as const;

/**
 * A Redis-shared bucket as the adapters read it: its stats checked (mode one of `redis`, `fallback`,
 * `closed`; every count finite and >= 0), a closed bucket having nothing to show.
 */
export const REDIS_BUCKET: StatsSourceKind<RedisBucketStatsLike> = {
  option: 'bucket',
  noun: 'Redis bucket',
  caller: 'redisBucketMetrics',
  expected: 'a RedisTokenBucket, or an object with a non-empty string key and stats',
  check(value) {
    const raw = statsRecord(value);
    const mode = statsMode(raw, ['redis', 'fallback', 'closed']);
    const stats: RedisBucketStatsLike = {
      mode,
      roundTrips: statsCount(raw, 'roundTrips'),
      failures: statsCount(raw, 'failures'),
      fallbacks: statsCount(raw, 'fallbacks'),
      redisTokens: statsCount(raw, 'redisTokens'),
      leasedTokens: statsCount(raw, 'leasedTokens'),
      expiredTokens: statsCount(raw, 'expiredTokens'),
      localTokens: statsCount(raw, 'localTokens'),
      reserve: statsCount(raw, 'reserve'),
    };
    return mode === 'closed' ? undefined : stats;
  },
};
