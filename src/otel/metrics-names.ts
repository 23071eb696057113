/**
 * Names of the instruments and attributes of {@link otelMetrics}. `error.type` is the semantic
 * conventions' (https://opentelemetry.io/docs/specs/semconv/attributes-registry/error/); the rest are
 * clientpool's own, under `clientpool.`, as the conventions ask of names they do not define.
 */

/** The instrumentation scope of the meter, when the adapter gets it from a provider. */
export const METER_NAME = 'clientpool';

/** Histogram, `s`: a whole `pool.run()` as the caller saw it, every attempt, wait and backoff included. */
export const METRIC_CALL_DURATION = 'clientpool.call.duration';
/** Histogram, `s`: one attempt, from the pick of its client to the pool's verdict. */
export const METRIC_ATTEMPT_DURATION = 'clientpool.attempt.duration';
/** Observable up-down counter, `{attempt}`: attempts in flight per client, read at collection. */
export const METRIC_ATTEMPTS_ACTIVE = 'clientpool.attempts.active';
/** Observable gauge, `{state}`: circuit state per client, 0 closed, 1 half-open, 2 open. */
export const METRIC_CIRCUIT_STATE = 'clientpool.circuit.state';
/** Observable gauge, `{attempt}`: a client's `maxInFlight`, read at collection; clients without a cap have none. */
export const METRIC_CONCURRENCY_LIMIT = 'clientpool.concurrency.limit';
/** Observable gauge, `{height}`: a client's last reported height (block, slot, LSN); clients with none have none. */
export const METRIC_CLIENT_HEIGHT = 'clientpool.client.height';
/** Observable gauge, `{height}`: how far a client trails the pool's head (negative: ahead); none while either is unknown. */
export const METRIC_CLIENT_LAG = 'clientpool.client.lag';
/** Observable gauge, `{token}`: tokens left in a client's own in-memory limit, with `clientpool.limit` naming it (requests, tokens, ...). */
export const METRIC_LIMIT_HEADROOM = 'clientpool.limit.headroom';
/** The attribute naming a limit on `clientpool.limit.headroom`. */
export const ATTR_LIMIT = 'clientpool.limit';
/** Observable gauge, `{tier}`: each client's priority tier (lower serves first). */
export const METRIC_CLIENT_TIER = 'clientpool.client.tier';
/** Observable counter, `{read}`: quorum reads a client's answer was outvoted in; clients never outvoted have none. */
export const METRIC_QUORUM_DISAGREEMENTS = 'clientpool.quorum.disagreements';
/** Counter, `{transition}`: circuit state transitions per client. */
export const METRIC_CIRCUIT_TRANSITIONS = 'clientpool.circuit.transitions';
/** Histogram, `s`: time calls waited for a rate-limit token; a refused call carries `error.type`. */
export const METRIC_RATE_LIMIT_WAIT = 'clientpool.rate_limit.wait';

/** The call's method label, capped by `maxMethods`. */
export const ATTR_METHOD = 'clientpool.method';
/** Why the attempt ran: `first`, `retry`, `hedge` or `quorum` (attempts 2 to `of` of a `pool.quorum()`). */
export const ATTR_ATTEMPT_KIND = 'clientpool.attempt.kind';
/** The pool's verdict on the attempt: `success`, `failure`, `answered`, `refused` or `cancelled`. */
export const ATTR_OUTCOME = 'clientpool.outcome';
/** The circuit state a transition left: `closed`, `half-open` or `open`. */
export const ATTR_CIRCUIT_FROM = 'clientpool.circuit.from';
/** The circuit state a transition entered. */
export const ATTR_CIRCUIT_TO = 'clientpool.circuit.to';
/** Which limit a call waited for: `pool` (the pool-wide one) or `client` (a client's own bucket). */
export const ATTR_RATE_LIMIT_SCOPE = 'clientpool.rate_limit.scope';

/** Where a call's answer came from when not from its own journey: `shared`, `cache` or `stale` (absent otherwise). */
export const ATTR_CALL_SOURCE = 'clientpool.call.source';

/** `error.type` of a failed call whose error has no clientpool `code` (none should reach a caller). */
export const ERROR_TYPE_UNKNOWN = 'ERR_UNKNOWN';
