/**
 * Every error clientpool raises is a {@link ClientPoolError} with a stable `code` and, where there was one,
 * the original failure as `cause`. Check with the exported guards, which survive duplicate installs
 * because they test a `Symbol.for` brand rather than `instanceof`.
 */

const brand = Symbol.for('clientpool.error');

/** Base class of every error clientpool raises. */
export abstract class ClientPoolError extends Error {
  /** Stable machine-readable code, e.g. `ERR_ALL_CIRCUITS_OPEN`. */
  abstract readonly code: string;
  readonly [brand] = true;
}

/** True when `value` is any error raised by clientpool (any installed copy of it). */
export function isClientPoolError(value: unknown): value is ClientPoolError {
  return typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true;
}

/** True when `value` is a clientpool error with the given code. */
export function hasErrorCode<C extends ClientPoolErrorCode>(
  value: unknown,
  code: C,
): value is Extract<AnyClientPoolError, { code: C }> {
  return isClientPoolError(value) && value.code === code;
}

/** An option or argument was invalid; raised at once, naming the option and the bad value. */
export class InvalidOptionError extends ClientPoolError {
  override readonly name = 'InvalidOptionError';
  readonly code = 'ERR_INVALID_OPTION';
  /** Path of the offending option, e.g. `breaker.maxFailures`. */
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, expected: string, value: unknown) {
    super(`${option} must be ${expected}, got ${describe(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** The pool has no clients at all. */
export class NoClientsError extends ClientPoolError {
  override readonly name = 'NoClientsError';
  readonly code = 'ERR_NO_CLIENTS';
  constructor() {
    super('the pool has no clients; add one with pool.add(client)');
  }
}

/** One client that could not take a call, as listed by {@link AllCircuitsOpenError}. */
export interface UnavailableClient {
  readonly name: string;
  /** `open` until `retryAfterMs`, `half-open` with every probe permit taken, or `down` (failing health checks). */
  readonly state: 'open' | 'half-open' | 'down';
  /** Milliseconds until this client admits a call again; 0 when it waits for a probe to finish. */
  readonly retryAfterMs: number;
}

/** Every client's circuit is open (or half-open with its probes taken): the call failed fast. */
export class AllCircuitsOpenError extends ClientPoolError {
  override readonly name = 'AllCircuitsOpenError';
  readonly code = 'ERR_ALL_CIRCUITS_OPEN';
  readonly clients: readonly UnavailableClient[];
  /** Milliseconds until the first client is due back. */
  readonly retryAfterMs: number;
  constructor(clients: readonly UnavailableClient[]) {
    const due = clients.reduce((min, c) => Math.min(min, c.retryAfterMs), Infinity);
    const list = clients
      .map((c) =>
        c.state === 'open' ? `${c.name} (open, back in ${Math.ceil(c.retryAfterMs)} ms)` : c.state === 'down' ? `${c.name} (down: failing health checks)` : `${c.name} (half-open, probes busy)`,
      )
      .join(', ');
    super(`all ${clients.length} clients are unavailable: ${list}`);
    this.clients = clients;
    this.retryAfterMs = Number.isFinite(due) ? due : 0;
  }
}

/** The call did not finish within its `timeout`. Counted as a failure of the client. */
export class TimeoutError extends ClientPoolError {
  override readonly name = 'TimeoutError';
  readonly code = 'ERR_TIMEOUT';
  readonly timeoutMs: number;
  constructor(timeoutMs: number, clientName?: string) {
    super(`call timed out after ${timeoutMs} ms${clientName === undefined ? '' : ` on client ${clientName}`}`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The call (or one attempt of it) was aborted: by the caller through its `AbortSignal` (`cause` is the
 * signal's reason), or, for a hedge that lost the race, by the pool. Not a client failure.
 */
export class AbortedError extends ClientPoolError {
  override readonly name = 'AbortedError';
  readonly code = 'ERR_ABORTED';
  constructor(reason: unknown, message = 'call aborted by the caller') {
    super(message, reason === undefined ? undefined : { cause: reason });
  }
}

/** The client's function threw or rejected with an `Error`; it is the `cause`. */
export class ClientCallError extends ClientPoolError {
  override readonly name = 'ClientCallError';
  readonly code = 'ERR_CLIENT_CALL';
  readonly clientName: string;
  readonly method: string;
  constructor(cause: Error, clientName: string, method: string) {
    super(`${method} failed on client ${clientName}: ${cause.message}`, { cause });
    this.clientName = clientName;
    this.method = method;
  }
}

/**
 * The client's function threw something that is not an `Error` (a string, `undefined`, an object):
 * the equivalent of a Go panic. The thrown value is the `cause`.
 */
export class ClientPanicError extends ClientPoolError {
  override readonly name = 'ClientPanicError';
  readonly code = 'ERR_CLIENT_PANIC';
  readonly clientName: string;
  readonly method: string;
  constructor(cause: unknown, clientName: string, method: string) {
    super(`${method} on client ${clientName} threw a non-Error: ${describe(cause)}`, { cause });
    this.clientName = clientName;
    this.method = method;
  }
}

/** `remove()` named a client the pool does not hold. */
export class UnknownClientError extends ClientPoolError {
  override readonly name = 'UnknownClientError';
  readonly code = 'ERR_UNKNOWN_CLIENT';
  constructor(client: unknown) {
    super(`the pool holds no client ${typeof client === 'string' ? JSON.stringify(client) : 'matching that reference'}`);
  }
}

/** The pool was closed; it takes no more calls or clients. */
export class PoolClosedError extends ClientPoolError {
  override readonly name = 'PoolClosedError';
  readonly code = 'ERR_POOL_CLOSED';
  constructor() {
    super('the pool is closed');
  }
}

/** A call waited longer than allowed for a rate-limit token (or none could come in time). */
export class RateLimitedError extends ClientPoolError {
  override readonly name = 'RateLimitedError';
  readonly code = 'ERR_RATE_LIMITED';
  /** Milliseconds until a token would have been available. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, scope = 'pool') {
    super(`rate limited (${scope}): next token in ${Math.ceil(retryAfterMs)} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Union of every concrete clientpool error, for exhaustive handling by `code`. */
export type AnyClientPoolError =
  | InvalidOptionError
  | NoClientsError
  | AllCircuitsOpenError
  | TimeoutError
  | AbortedError
  | ClientCallError
  | ClientPanicError
  | UnknownClientError
  | PoolClosedError
  | RateLimitedError;

/** Every code clientpool uses. */
export type ClientPoolErrorCode = AnyClientPoolError['code'];

/** Render a bad value for an error message: `NaN`, `"abc"`, `undefined`, `[object]`. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol') return value.toString();
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
