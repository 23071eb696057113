export { prometheusMetrics, type PrometheusMetrics } from './prometheus-metrics.js';
export type { PrometheusMetricsOptions } from './options.js';
export type { AnyRegistry } from './shared-families.js';
export { DEFAULT_BUCKETS } from './buckets.js';
export { OTHER_METHOD } from './method-labels.js';
