export { tracing, TRACER_NAME } from './tracing.js';
export type { TracingOptions } from './options.js';
export { ATTR_ATTEMPT, ATTR_CANCELLED, ATTR_CLIENT, ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, errorType } from './attributes.js';
export { otelMetrics } from './metrics.js';
export type { OtelMetricsOptions } from './metrics-options.js';
export {
  ATTR_ATTEMPT_KIND,
  ATTR_CIRCUIT_FROM,
  ATTR_CIRCUIT_TO,
  ATTR_CALL_SOURCE,
  ATTR_METHOD,
  ATTR_OUTCOME,
  ATTR_RATE_LIMIT_SCOPE,
  ERROR_TYPE_UNKNOWN,
  METER_NAME,
  METRIC_ATTEMPT_DURATION,
  METRIC_ATTEMPTS_ACTIVE,
  METRIC_CALL_DURATION,
  METRIC_CIRCUIT_STATE,
  METRIC_CONCURRENCY_LIMIT,
  METRIC_CLIENT_HEIGHT,
  METRIC_CLIENT_LAG,
  METRIC_QUORUM_DISAGREEMENTS,
  METRIC_CLIENT_TIER,
  METRIC_LIMIT_HEADROOM,
  ATTR_LIMIT,
  METRIC_CIRCUIT_TRANSITIONS,
  METRIC_RATE_LIMIT_WAIT,
} from './metrics-names.js';
export {
  redisBucketMetrics,
  ATTR_REDIS_BUCKET_KEY,
  ATTR_REDIS_BUCKET_SOURCE,
  METRIC_REDIS_BUCKET_EXPIRED_TOKENS,
  METRIC_REDIS_BUCKET_FAILURES,
  METRIC_REDIS_BUCKET_FALLBACKS,
  METRIC_REDIS_BUCKET_LEASED_TOKENS,
  METRIC_REDIS_BUCKET_MODE,
  METRIC_REDIS_BUCKET_RESERVE,
  METRIC_REDIS_BUCKET_ROUND_TRIPS,
  METRIC_REDIS_BUCKET_TOKENS,
  type RedisBucketOtelMetrics,
  type RedisBucketOtelOptions,
} from './redis-bucket-metrics.js';
export type { RedisBucketLike, RedisBucketStatsLike } from '../prometheus/redis-bucket-stats.js';
export {
  redisFleetMetrics,
  ATTR_FLEET_KEY,
  METRIC_FLEET_APPLIED,
  METRIC_FLEET_FAILURES,
  METRIC_FLEET_FALLBACKS,
  METRIC_FLEET_LAG,
  METRIC_FLEET_MISMATCHES,
  METRIC_FLEET_MODE,
  METRIC_FLEET_REPORTS,
  METRIC_FLEET_SYNC_AGE,
  METRIC_FLEET_SYNCS,
  type RedisFleetOtelMetrics,
  type RedisFleetOtelOptions,
} from './redis-fleet-metrics.js';
export type { RedisFleetLike, RedisFleetStatsLike } from '../prometheus/redis-fleet-stats.js';
