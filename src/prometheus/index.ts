export { prometheusMetrics, type PrometheusMetrics } from './prometheus-metrics.js';
export type { PrometheusMetricsOptions } from './options.js';
export type { AnyRegistry } from './shared-families.js';
export { DEFAULT_BUCKETS } from './buckets.js';
export { OTHER_METHOD } from './method-labels.js';
export { redisBucketMetrics, type RedisBucketMetrics, type RedisBucketMetricsOptions } from './redis-bucket-metrics.js';
export { redisFleetMetrics, type RedisFleetMetrics, type RedisFleetMetricsOptions, type RedisFleetLike, type RedisFleetStatsLike } from './redis-fleet-metrics.js';
export type { RedisBucketLike, RedisBucketStatsLike } from './redis-bucket-stats.js';
