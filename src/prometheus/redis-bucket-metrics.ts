import { REDIS_MODE_VALUE } from './stats-source.js';
import { BUCKET_COUNTERS, REDIS_BUCKET, type RedisBucketLike, type RedisBucketStatsLike } from './redis-bucket-stats.js';
import type { AnyRegistry } from './shared-families.js';
import { exportStats, type StatsExportSpec } from './stats-export.js';

/** Options of {@link redisBucketMetrics}: those of `prometheusMetrics` that apply. */
export interface RedisBucketMetricsOptions {
  /**
   * The prom-client registry to register on; never prom-client's global `register` unasked.
   * @default a new `Registry`, exposed as `metrics.registry`
   */
  readonly registry?: AnyRegistry;
  /**
   * First part of every metric name: `<prefix>_redis_bucket_mode`. Use the prefix of the pool's
   * `prometheusMetrics` so that both sit together.
   * @default 'middleware'
   */
  readonly prefix?: string;
  /**
   * Constant labels added to every series, after the metric's own (`key`, `source`), e.g. `{ pool: 'rpc' }`.
   * Every bucket exported with one prefix on one registry must use the same label names.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@link redisBucketMetrics} returns. */
export interface RedisBucketMetrics {
  /** The registry the metrics are on: the one passed in, or a new one. */
  readonly registry: AnyRegistry;
  /** The bucket's key: the `key` label of its series. */
  readonly key: string;
  /** Stop exporting this bucket; a family no other bucket feeds leaves the registry. Idempotent. */
  unregister(): void;
}

/**
 * Prometheus metrics for a Redis-shared token bucket (`RedisTokenBucket` of `clientpool/redis`), read from
 * `bucket.stats` at scrape time only, so a call costs nothing more. Per bucket, by its `key`:
 *
 * - `<prefix>_redis_bucket_mode` (gauge): 0 while tokens come from Redis, 1 while from the local
 *   insurance bucket (fallback). A closed bucket's series all vanish.
 * - `<prefix>_redis_bucket_round_trips_total`, `<prefix>_redis_bucket_failures_total` (counters): script
 *   runs sent to Redis (probes included), and those that failed or timed out.
 * - `<prefix>_redis_bucket_fallbacks_total` (counter): switches from Redis to the local bucket.
 * - `<prefix>_redis_bucket_tokens_total{source="redis"|"local"}` (counter): tokens taken from Redis
 *   (leased ones included) and granted by the local bucket.
 * - `<prefix>_redis_bucket_leased_tokens_total`, `<prefix>_redis_bucket_expired_tokens_total` (counters):
 *   of the Redis tokens, those taken ahead of demand, and those dropped unused when their lease expired.
 * - `<prefix>_redis_bucket_reserve_tokens` (gauge): leased tokens held in the local reserve now.
 *
 * Buckets exported with one prefix on one registry share the families (and coexist with the pool's
 * `prometheusMetrics`, whose names differ); two buckets with the same key add up (mode: the worse).
 * `stats` is read once per scrape, whatever the number of families, so a scrape shows each bucket whole
 * or not at all. A `stats` getter that throws (or returns something else) leaves that bucket out of the
 * scrape and is reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning: the scrape still succeeds.
 * Exporting a bucket costs O(1) whatever the number already exported.
 *
 * @throws InvalidOptionError for a bucket without a non-empty string `key` and a `stats` property, a
 *   bucket already exported on this registry with this prefix, or a bad option (as `prometheusMetrics`'s).
 * @example
 * ```ts
 * const limit = new RedisTokenBucket({ redis, key: 'provider-a', rate: 100 });
 * const metrics = prometheusMetrics({ registry });
 * redisBucketMetrics(limit, { registry });
 * const pool = new ClientPool({ limit, middleware: [metrics] });
 * ```
 */
export function redisBucketMetrics(bucket: RedisBucketLike, options: RedisBucketMetricsOptions = {}): RedisBucketMetrics {
  return exportStats(BUCKET_EXPORT, bucket, options);
}

type Family = 'mode' | (typeof BUCKET_COUNTERS)[number] | 'tokens' | 'reserve';

const BUCKET_EXPORT: StatsExportSpec<RedisBucketStatsLike, Family> = {
  kind: REDIS_BUCKET,
  brand: Symbol.for('clientpool.prometheus.redisBuckets'),
  families: {
    mode: { type: 'gauge', name: 'redis_bucket_mode', help: 'Where a Redis-shared token bucket takes tokens: 0 Redis, 1 its local insurance bucket (fallback).', merge: 'max' },
    roundTrips: { type: 'counter', name: 'redis_bucket_round_trips_total', help: 'Script runs a Redis-shared token bucket sent to Redis, probes included.', merge: 'sum' },
    failures: { type: 'counter', name: 'redis_bucket_failures_total', help: 'Round trips to Redis that failed or timed out.', merge: 'sum' },
    fallbacks: { type: 'counter', name: 'redis_bucket_fallbacks_total', help: 'Switches of a Redis-shared token bucket from Redis to its local insurance bucket.', merge: 'sum' },
    tokens: { type: 'counter', name: 'redis_bucket_tokens_total', help: 'Tokens a Redis-shared token bucket took, by source: redis (leased ones included) or local (insurance bucket).', merge: 'sum', labels: ['source'] },
    leasedTokens: { type: 'counter', name: 'redis_bucket_leased_tokens_total', help: 'Tokens taken from Redis ahead of demand (lease), kept in the local reserve.', merge: 'sum' },
    expiredTokens: { type: 'counter', name: 'redis_bucket_expired_tokens_total', help: 'Leased tokens dropped unused when their lease expired.', merge: 'sum' },
    reserve: { type: 'gauge', name: 'redis_bucket_reserve_tokens', help: 'Leased tokens in the local reserve now.', merge: 'sum' },
  },
  collectors(labels) {
    const base = labels();
    const fromRedis = labels({ source: 'redis' });
    const fromLocal = labels({ source: 'local' });
    return {
      mode: (emit, stats) => emit(base, REDIS_MODE_VALUE[stats.mode]!),
      roundTrips: (emit, stats) => emit(base, stats.roundTrips),
      failures: (emit, stats) => emit(base, stats.failures),
      fallbacks: (emit, stats) => emit(base, stats.fallbacks),
      tokens: (emit, stats) => {
        emit(fromRedis, stats.redisTokens);
        emit(fromLocal, stats.localTokens);
      },
      leasedTokens: (emit, stats) => emit(base, stats.leasedTokens),
      expiredTokens: (emit, stats) => emit(base, stats.expiredTokens),
      reserve: (emit, stats) => emit(base, stats.reserve),
    };
  },
};
