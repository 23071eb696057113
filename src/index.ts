export { ClientPool } from './pool.js';
export type { AddOptions, CloseOptions, MethodOptions, PoolOptions } from './pool-options.js';
export type { BackoffOptions, RetryOptions } from './resilience/retry-policy.js';
export type { HedgeOptions } from './resilience/hedge-policy.js';
export { MAX_QUORUM, QUORUM_DECIDED, type Disagreement, type QuorumOptions } from './resilience/quorum.js';
export type { RetryBudgetOptions } from './resilience/retry-budget.js';
export type { HealthChange, PoolObserver, RateLimitEvent, StateChange } from './pool-events.js';
export type { HealthCheckOptions } from './health/health-checker.js';
export { callKey, type AttemptKind, type Call, type CallFunction, type CallKey, type CallScope, type Priority, type RunOptions } from './call.js';
export { isCancelled } from './pipeline/attempt.js';
export type { Outcome } from './pipeline/outcome.js';
export type { CallEnd, CallSource } from './pipeline/call-end.js';
export type { CacheOptions } from './pipeline/call-cache.js';
export { CHANNELS, type AttemptEndMessage, type AttemptStartMessage, type CallMessage, type CircuitMessage, type RateLimitMessage } from './diagnostics/channels.js';
export type { Freshness, MemberSnapshot, PoolMember } from './member.js';
export type { FreshnessOptions, Height } from './freshness/freshness-options.js';
export type { FreshnessChange } from './freshness/height-tracker.js';
export { ExcludedMethodError, MissingMethodError, type CommandLabel, type ExclusionReason, type MethodNames, type Proxied, type ProxiedMethod, type ProxiedPaths, type ProxyMethodOptions, type ProxyOptions, type ProxyRunOptions, type SignalParameter } from './proxy.js';
export { BLOCKING_METHODS, CONNECTION_STATE_METHODS, defaultExclusionReason, EVENT_EMITTER_METHODS, EVENT_SOURCE_METHODS, EVENT_SOURCE_PATTERNS, HANDLER_METHODS, LIFECYCLE_METHODS, STREAM_METHODS, STREAM_PATTERNS, type DefaultExcludedMethod, type DefaultExclusionReason } from './wrapping/default-exclusions.js';
export { methodLabel, toSnakeCase, type LabelStyle } from './label.js';
export type { Balancer, BalancerContext, BalancerFactory } from './balancers/balancer.js';
export { strategies, type Strategy, type StrategyName } from './balancers/strategies.js';
export { roundRobin } from './balancers/round-robin.js';
export { randomBalancer } from './balancers/random.js';
export { weightedRandom } from './balancers/weighted-random.js';
export { smoothWeightedRoundRobin } from './balancers/smooth-weighted-round-robin.js';
export { leastInFlight } from './balancers/least-in-flight.js';
export { p2cEwma } from './balancers/p2c-ewma.js';
export {
  CLOSED,
  type Admission,
  type Breaker,
  type BreakerContext,
  type BreakerFactory,
  type CircuitState,
  type ClosedState,
  type HalfOpenState,
  type OpenState,
} from './breaker/breaker.js';
export { Circuit } from './breaker/circuit.js';
export type { TripPolicy } from './breaker/trip-policy.js';
export type { Fleet, FleetHost, FleetSession } from './fleet/fleet.js';
export { ConsecutiveBreaker, type ConsecutiveBreakerOptions } from './breaker/consecutive.js';
export { FailureRateBreaker, failureRate, type FailureRateBreakerOptions } from './breaker/failure-rate.js';
export type { AnyMiddleware, Middleware, MiddlewareFunction, Next } from './middleware/middleware.js';
export { traceId, TRACE_ID, type TraceIdOptions } from './middleware/trace-id.js';
export { isTokenBucket, TokenBucket, type TokenBucketOptions } from './limit/token-bucket.js';
export type { Limiter, TakeOptions } from './limit/limiter.js';
export { DEFAULT_COST, type Cost } from './limit/cost.js';
export type { ClientLimitOptions, Limits, PoolLimitOptions } from './limit/limits-option.js';
export { adaptiveLimit, isAdaptiveLimitOptions, ADAPTIVE_ALGORITHMS, type AdaptiveLimitOptions, type ConcurrencyLimit, type ConcurrencySample } from './limit/adaptive/concurrency-limit.js';
export { AimdLimit, type AimdLimitOptions } from './limit/adaptive/aimd.js';
export { Gradient2Limit, type Gradient2LimitOptions } from './limit/adaptive/gradient2.js';
export { rateLimit, type RateLimitOptions } from './middleware/rate-limit.js';
export { systemClock, type Clock } from './clock.js';
export { seededRandom, type Random } from './random.js';
export type { Disposable, Event } from './events.js';
export * from './errors.js';
