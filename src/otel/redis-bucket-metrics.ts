import type { Attributes, Meter, MeterProvider } from '@opentelemetry/api';
import { REDIS_BUCKET, type RedisBucketLike, type RedisBucketStatsLike } from '../prometheus/redis-bucket-stats.js';
import { REDIS_MODE_VALUE } from '../prometheus/stats-source.js';
import { observeStats, type StatsObserverSpec } from './stats-observer.js';

/** Observable gauge, `{mode}`: 0 while the bucket takes tokens from Redis, 1 from its local insurance bucket. */
export const METRIC_REDIS_BUCKET_MODE = 'clientpool.redis_bucket.mode';
/** Observable counter, `{round_trip}`: script runs sent to Redis, probes included. */
export const METRIC_REDIS_BUCKET_ROUND_TRIPS = 'clientpool.redis_bucket.round_trips';
/** Observable counter, `{round_trip}`: round trips that failed or timed out. */
export const METRIC_REDIS_BUCKET_FAILURES = 'clientpool.redis_bucket.failures';
/** Observable counter, `{fallback}`: switches from Redis to the local insurance bucket. */
export const METRIC_REDIS_BUCKET_FALLBACKS = 'clientpool.redis_bucket.fallbacks';
/** Observable counter, `{token}`: tokens taken, by `clientpool.redis_bucket.source` (`redis` or `local`). */
export const METRIC_REDIS_BUCKET_TOKENS = 'clientpool.redis_bucket.tokens';
/** Observable counter, `{token}`: of the Redis tokens, those taken ahead of demand (lease). */
export const METRIC_REDIS_BUCKET_LEASED_TOKENS = 'clientpool.redis_bucket.leased_tokens';
/** Observable counter, `{token}`: leased tokens dropped unused when their lease expired. */
export const METRIC_REDIS_BUCKET_EXPIRED_TOKENS = 'clientpool.redis_bucket.expired_tokens';
/** Observable up-down counter, `{token}`: leased tokens in the local reserve now. */
export const METRIC_REDIS_BUCKET_RESERVE = 'clientpool.redis_bucket.reserve';
/** The bucket's Redis key. */
export const ATTR_REDIS_BUCKET_KEY = 'clientpool.redis_bucket.key';
/** Where tokens came from: `redis` or `local`. */
export const ATTR_REDIS_BUCKET_SOURCE = 'clientpool.redis_bucket.source';

/** Options of the OpenTelemetry {@link redisBucketMetrics}. */
export interface RedisBucketOtelOptions {
  /**
   * The meter to make the instruments on. Give this or `meterProvider`, not both.
   * @default the meter `clientpool` of `meterProvider`
   */
  readonly meter?: Meter;
  /**
   * Where to get the meter when no `meter` is given; read once, now (register the SDK first).
   * @default the global provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Attributes added to every observation, e.g. `{ 'clientpool.pool': 'rpc' }`. May not use
   * `clientpool.redis_bucket.key` or `clientpool.redis_bucket.source`.
   * @default {}
   */
  readonly attributes?: Attributes;
}

/** What the OpenTelemetry {@link redisBucketMetrics} returns. */
export interface RedisBucketOtelMetrics {
  /** The bucket's key: its `clientpool.redis_bucket.key`. */
  readonly key: string;
  /** Stop observing the bucket (take the meter's callback back). Idempotent. */
  unregister(): void;
}

/**
 * OpenTelemetry metrics for a Redis-shared token bucket (`RedisTokenBucket` of `clientpool/redis`): the
 * figures of the Prometheus `redisBucketMetrics`, as observable instruments read from `bucket.stats` at
 * collection only, with the attribute `clientpool.redis_bucket.key`:
 * `clientpool.redis_bucket.mode` (gauge, 0 Redis, 1 fallback), `clientpool.redis_bucket.round_trips`,
 * `.failures`, `.fallbacks`, `.tokens` (by `clientpool.redis_bucket.source` `redis`|`local`),
 * `.leased_tokens`, `.expired_tokens` (counters) and `.reserve` (up-down counter). A closed bucket is not
 * observed. `stats` is read once per collection for every instrument (one batch callback), so a
 * collection observes a bucket whole or not at all. A `stats` getter that throws leaves the bucket out
 * of that collection and is reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning. Several buckets may
 * report to one meter.
 *
 * @throws InvalidOptionError for a bucket without a non-empty string `key` and `stats`, a bad or unknown
 *   option, or a meter (or provider) that cannot make the instruments; what was thrown is the `cause`.
 * @example
 * ```ts
 * import { redisBucketMetrics } from 'clientpool/otel';
 * const limit = new RedisTokenBucket({ redis, key: 'provider-a', rate: 100 });
 * redisBucketMetrics(limit, { meterProvider });
 * ```
 */
export function redisBucketMetrics(bucket: RedisBucketLike, options: RedisBucketOtelOptions = {}): RedisBucketOtelMetrics {
  return observeStats(BUCKET_OBSERVER, bucket, options);
}

const BUCKET_OBSERVER: StatsObserverSpec<RedisBucketStatsLike, 'mode' | 'roundTrips' | 'failures' | 'fallbacks' | 'tokens' | 'leased' | 'expired' | 'reserve'> = {
  kind: REDIS_BUCKET,
  keyAttribute: ATTR_REDIS_BUCKET_KEY,
  instruments: {
    mode: { kind: 'gauge', name: METRIC_REDIS_BUCKET_MODE, description: 'Where a Redis-shared token bucket takes tokens: 0 Redis, 1 its local insurance bucket (fallback).', unit: '{mode}' },
    roundTrips: { kind: 'counter', name: METRIC_REDIS_BUCKET_ROUND_TRIPS, description: 'Script runs sent to Redis, probes included.', unit: '{round_trip}' },
    failures: { kind: 'counter', name: METRIC_REDIS_BUCKET_FAILURES, description: 'Round trips to Redis that failed or timed out.', unit: '{round_trip}' },
    fallbacks: { kind: 'counter', name: METRIC_REDIS_BUCKET_FALLBACKS, description: 'Switches from Redis to the local insurance bucket.', unit: '{fallback}' },
    tokens: { kind: 'counter', name: METRIC_REDIS_BUCKET_TOKENS, description: 'Tokens taken, by source: redis (leased ones included) or local (insurance bucket).', unit: '{token}', attributes: [ATTR_REDIS_BUCKET_SOURCE] },
    leased: { kind: 'counter', name: METRIC_REDIS_BUCKET_LEASED_TOKENS, description: 'Tokens taken from Redis ahead of demand (lease).', unit: '{token}' },
    expired: { kind: 'counter', name: METRIC_REDIS_BUCKET_EXPIRED_TOKENS, description: 'Leased tokens dropped unused when their lease expired.', unit: '{token}' },
    reserve: { kind: 'upDownCounter', name: METRIC_REDIS_BUCKET_RESERVE, description: 'Leased tokens in the local reserve now.', unit: '{token}' },
  },
  observer(attributes) {
    const base = attributes();
    const fromRedis = attributes({ [ATTR_REDIS_BUCKET_SOURCE]: 'redis' });
    const fromLocal = attributes({ [ATTR_REDIS_BUCKET_SOURCE]: 'local' });
    return (result, made, stats) => {
      result.observe(made.mode, REDIS_MODE_VALUE[stats.mode]!, base);
      result.observe(made.roundTrips, stats.roundTrips, base);
      result.observe(made.failures, stats.failures, base);
      result.observe(made.fallbacks, stats.fallbacks, base);
      result.observe(made.tokens, stats.redisTokens, fromRedis);
      result.observe(made.tokens, stats.localTokens, fromLocal);
      result.observe(made.leased, stats.leasedTokens, base);
      result.observe(made.expired, stats.expiredTokens, base);
      result.observe(made.reserve, stats.reserve, base);
    };
  },
};
