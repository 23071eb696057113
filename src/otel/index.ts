export { tracing, TRACER_NAME } from './tracing.js';
export type { TracingOptions } from './options.js';
export { ATTR_ATTEMPT, ATTR_CANCELLED, ATTR_CLIENT, ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, errorType } from './attributes.js';
export { otelMetrics } from './metrics.js';
export type { OtelMetricsOptions } from './metrics-options.js';
export {
  ATTR_ATTEMPT_KIND,
  ATTR_CIRCUIT_FROM,
  ATTR_CIRCUIT_TO,
  ATTR_METHOD,
  ATTR_OUTCOME,
  ATTR_RATE_LIMIT_SCOPE,
  ERROR_TYPE_UNKNOWN,
  METER_NAME,
  METRIC_ATTEMPT_DURATION,
  METRIC_ATTEMPTS_ACTIVE,
  METRIC_CALL_DURATION,
  METRIC_CIRCUIT_STATE,
  METRIC_CIRCUIT_TRANSITIONS,
  METRIC_RATE_LIMIT_WAIT,
} from './metrics-names.js';
