/**
 * Span attribute names. The `rpc.*`, `server.*` and `error.*` ones are OpenTelemetry semantic
 * conventions (RPC spans, https://opentelemetry.io/docs/specs/semconv/rpc/rpc-spans/), written out
 * rather than imported so that the adapter needs nothing but `@opentelemetry/api`.
 */
export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_ERROR_TYPE = 'error.type';
/** The client's name in the pool. */
export const ATTR_CLIENT = 'clientpool.client';
/** 1 for the first attempt of a pool call; 2 and up for its retries and hedges. */
export const ATTR_ATTEMPT = 'clientpool.attempt';
/**
 * `true` on an attempt cancelled by the caller's signal, by a hedge that won elsewhere or by `pool.destroy()`: not a failure,
 * so the span keeps status UNSET.
 */
export const ATTR_CANCELLED = 'clientpool.cancelled';

/** The semantic conventions' `error.type` for a failure that has no better name. */
export const ERROR_TYPE_OTHER = '_OTHER';

/**
 * A low-cardinality `error.type`: the error's name (`TypeError`, `TimeoutError`, `AbortError`), or its
 * class name when it kept the generic `Error` name; `_OTHER` for a thrown non-Error, and for an error
 * whose `name` is not a string or whose getters throw. Never throws.
 */
export function errorType(error: unknown): string {
  try {
    if (!(error instanceof Error)) return ERROR_TYPE_OTHER;
    const name: unknown = error.name;
    if (typeof name !== 'string') return ERROR_TYPE_OTHER;
    if (name !== 'Error') return name;
    const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
    return typeof constructorName === 'string' && constructorName !== '' ? constructorName : name;
  } catch {
    return ERROR_TYPE_OTHER;
  }
}
