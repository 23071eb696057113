import type { Dispatcher } from 'undici';

/** Methods that may be sent twice by default: RFC 9110's idempotent methods, less TRACE. */
export const IDEMPOTENT_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Whether a body can be sent again as it is: none, a string, or bytes. A stream or an async iterable is
 * consumed by the first attempt (undici reads it once), so a request with one goes to one origin only.
 */
export function isReplayableBody(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer;
}

/**
 * Whether a request may be retried or hedged, that is sent more than once: its method is one of `methods`
 * (or the request says `idempotent: true`, undici's own flag, an explicit opt-in; `idempotent: false`
 * opts out), and its body can be sent again. Upgrades (`CONNECT`, WebSocket) are never repeated.
 */
export function isRepeatable(request: Dispatcher.DispatchOptions, methods: ReadonlySet<string>): boolean {
  if (request.upgrade !== undefined && request.upgrade !== null && request.upgrade !== false) return false;
  const isIdempotent = request.idempotent ?? methods.has(request.method);
  return isIdempotent && isReplayableBody(request.body);
}
