import type { ExcludedMethodError } from './wrapping/excluded-method-error.js';
import type { MissingMethodError } from './wrapping/missing-method-error.js';
import type { ConfigMismatchError } from './redis/config-fingerprint.js';
/**
 * Every error clientpool raises is a {@link ClientPoolError} with a stable `code` and, where there was one,
 * the original failure as `cause`. The package ships an ESM and a CJS build (and an application may hold
 * two installed copies), so an error may come from another copy of these classes: `instanceof` and the
 * exported guards therefore test a `Symbol.for` brand and the `code`, not only the prototype chain.
 */

const brand = Symbol.for('clientpool.error');
const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

/**
 * Base class of every error clientpool raises.
 *
 * `error instanceof X` holds when `error` is an `X` of this copy of clientpool (the prototype chain, as
 * usual, user subclasses included), or when it is branded by any copy and its `code` is `X.code` (its
 * `name` is `X.name` for a class with no static `code` of its own). `instanceof ClientPoolError` holds
 * for every branded value.
 */
export abstract class ClientPoolError extends Error {
  /** Stable machine-readable code, e.g. `ERR_ALL_CIRCUITS_OPEN`. */
  abstract readonly code: string;
  readonly [brand] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    try {
      if (ordinaryHasInstance.call(this, value)) return true;
      if (!isClientPoolError(value)) return false;
      if (this === ClientPoolError) return true;
      // Statics are inherited: only a code declared by this very class identifies it (a user subclass of
      // TimeoutError must not match every TimeoutError of another copy).
      if (Object.hasOwn(this, 'code')) return value.code === (this as unknown as { readonly code: unknown }).code;
      return value.name === this.name;
    } catch {
      // A Proxy that throws on every trap is not one of ours.
      return false;
    }
  }
}

/** True when `value` is any error raised by clientpool (any installed copy of it). Never throws. */
export function isClientPoolError(value: unknown): value is ClientPoolError {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as { [brand]?: unknown })[brand] === true;
  } catch {
    return false;
  }
}

/** True when `value` is a clientpool error with the given code. Never throws. */
export function hasErrorCode<C extends ClientPoolErrorCode>(
  value: unknown,
  code: C,
): value is Extract<AnyClientPoolError, { code: C }> {
  if (!isClientPoolError(value)) return false;
  try {
    return value.code === code;
  } catch {
    return false;
  }
}

/** An option or argument was invalid; raised at once, naming the option and the bad value. */
export class InvalidOptionError extends ClientPoolError {
  static readonly code = 'ERR_INVALID_OPTION';
  override readonly name = 'InvalidOptionError';
  readonly code = InvalidOptionError.code;
  /** Path of the offending option, e.g. `breaker.maxFailures`. */
  readonly option: string;
  readonly value: unknown;
  /** What the option must be, as the message says it. */
  readonly expected: string;
  constructor(option: string, expected: string, value: unknown) {
    super(`${option} must be ${expected}, got ${describe(value)}`);
    this.option = option;
    this.value = value;
    this.expected = expected;
  }

  /**
   * The same refusal, for an option nested in `prefix` (`timeout` given as `pool: { timeout }` names
   * `pool.timeout`), with this error as its cause.
   */
  within(prefix: string): InvalidOptionError {
    // A whole options object's own name (`options.timout`) is the prefix's.
    const nested = new InvalidOptionError(`${prefix}.${this.option.replace(/^options\./, '')}`, this.expected, this.value);
    Object.defineProperty(nested, 'cause', { value: this, configurable: true, writable: true });
    return nested;
  }
}

/** The pool has no clients at all. */
export class NoClientsError extends ClientPoolError {
  static readonly code = 'ERR_NO_CLIENTS';
  override readonly name = 'NoClientsError';
  readonly code = NoClientsError.code;
  constructor() {
    super('the pool has no clients; add one with pool.add(client)');
  }
}

/** One client that could not take a call, as listed by {@link AllCircuitsOpenError}. */
export interface UnavailableClient {
  readonly name: string;
  /**
   * `open` until `retryAfterMs`, `half-open` with every probe permit taken, `down` (failing health
   * checks), or out of sync with the pool's head (`lagging` behind it, or `ahead` of it uncorroborated).
   */
  readonly state: 'open' | 'half-open' | 'down' | 'lagging' | 'ahead';
  /** Milliseconds until this client admits a call again; 0 when it waits for a probe to finish. */
  readonly retryAfterMs: number;
}

/** Every client's circuit is open (or half-open with its probes taken): the call failed fast. */
export class AllCircuitsOpenError extends ClientPoolError {
  static readonly code = 'ERR_ALL_CIRCUITS_OPEN';
  override readonly name = 'AllCircuitsOpenError';
  readonly code = AllCircuitsOpenError.code;
  readonly clients: readonly UnavailableClient[];
  /** Milliseconds until the first client is due back. */
  readonly retryAfterMs: number;
  constructor(clients: readonly UnavailableClient[]) {
    // A client out of sync comes back when its height does, not at a time: it sets no retry time.
    const due = clients.reduce((min, c) => (c.state === 'lagging' || c.state === 'ahead' ? min : Math.min(min, c.retryAfterMs)), Infinity);
    // A pool of thousands would otherwise make a message of hundreds of KB, copied into every log line.
    const list = clients
      .slice(0, LISTED_CLIENTS)
      .map((c) => {
        const name = clip(c.name, MAX_NAME);
        if (c.state === 'open') return `${name} (open, back in ${Math.ceil(c.retryAfterMs)} ms)`;
        if (c.state === 'down') return `${name} (down: failing health checks)`;
        if (c.state === 'lagging' || c.state === 'ahead') return `${name} (${c.state} of the head)`;
        return `${name} (half-open, probes busy)`;
      })
      .join(', ');
    const more = clients.length - LISTED_CLIENTS;
    // None listed: every client the call may use was tried already (a quorum's distinct clients) or removed.
    super(clients.length === 0 ? 'no client is left that this call has not tried' : `all ${clients.length} clients are unavailable: ${list}${more > 0 ? ` and ${more} more` : ''}`);
    this.clients = clients;
    this.retryAfterMs = Number.isFinite(due) ? due : 0;
  }
}

/** The call did not finish within its `timeout`. Counted as a failure of the client. */
export class TimeoutError extends ClientPoolError {
  static readonly code = 'ERR_TIMEOUT';
  override readonly name = 'TimeoutError';
  readonly code = TimeoutError.code;
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
  static readonly code = 'ERR_ABORTED';
  override readonly name = 'AbortedError';
  readonly code = AbortedError.code;
  constructor(reason: unknown, message = 'call aborted by the caller') {
    super(message, reason === undefined ? undefined : { cause: reason });
  }
}

/** The client's function threw or rejected with an `Error`; it is the `cause`. */
export class ClientCallError extends ClientPoolError {
  static readonly code = 'ERR_CLIENT_CALL';
  override readonly name = 'ClientCallError';
  readonly code = ClientCallError.code;
  readonly clientName: string;
  readonly method: string;
  constructor(cause: Error, clientName: string, method: string) {
    super(`${method} failed on client ${clientName}: ${messageOf(cause)}`, { cause });
    this.clientName = clientName;
    this.method = method;
  }
}

/**
 * The client's function threw something that is not an `Error` (a string, `undefined`, an object):
 * the equivalent of a Go panic. The thrown value is the `cause`.
 */
export class ClientPanicError extends ClientPoolError {
  static readonly code = 'ERR_CLIENT_PANIC';
  override readonly name = 'ClientPanicError';
  readonly code = ClientPanicError.code;
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
  static readonly code = 'ERR_UNKNOWN_CLIENT';
  override readonly name = 'UnknownClientError';
  readonly code = UnknownClientError.code;
  constructor(client: unknown) {
    super(`the pool holds no client ${typeof client === 'string' ? describe(client) : 'matching that reference'}`);
  }
}

/** The pool was closed; it takes no more calls or clients. */
export class PoolClosedError extends ClientPoolError {
  static readonly code = 'ERR_POOL_CLOSED';
  override readonly name = 'PoolClosedError';
  readonly code = PoolClosedError.code;
  constructor() {
    super('the pool is closed');
  }
}

/** A call waited longer than allowed for a rate-limit token (or none could come in time). */
export class RateLimitedError extends ClientPoolError {
  static readonly code = 'ERR_RATE_LIMITED';
  override readonly name = 'RateLimitedError';
  readonly code = RateLimitedError.code;
  /** Milliseconds until a token would have been available. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, scope = 'pool') {
    super(`rate limited (${scope}): next token in ${Math.ceil(retryAfterMs)} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A user callback broke the pool's contract: a balancer's `pick()` threw or returned a stranger, a
 * middleware returned something other than a promise or called `next` twice, an `around` hook returned
 * nothing. `callback` names it; what it threw, if anything, is the `cause`.
 */
export class CallbackError extends ClientPoolError {
  static readonly code = 'ERR_CALLBACK';
  override readonly name = 'CallbackError';
  readonly code = CallbackError.code;
  readonly callback: string;
  constructor(callback: string, problem: string, cause?: unknown) {
    super(`${callback} ${problem}`, cause === undefined ? undefined : { cause });
    this.callback = callback;
  }
}

/**
 * The call failed and a retry (or hedge) was due, but the pool's retry budget had no token for it: the
 * last attempt's error is the `cause`. Raise the budget's `ratio` or `reserve` if this fires while clients
 * are healthy.
 */
export class RetryBudgetExhaustedError extends ClientPoolError {
  static readonly code = 'ERR_RETRY_BUDGET';
  override readonly name = 'RetryBudgetExhaustedError';
  readonly code = RetryBudgetExhaustedError.code;
  /** Attempts the call made. */
  readonly attempts: number;
  constructor(cause: Error, attempts: number) {
    super(`retry refused by the retry budget after ${attempts} attempt(s): ${messageOf(cause)}`, { cause });
    this.attempts = attempts;
  }
}

/**
 * Every client the call could use is at its `maxInFlight` (a concurrency cap, a bulkhead), and none freed a
 * slot within `maxWait` (or the call's deadline). Not a failure of any client.
 */
export class ConcurrencyLimitedError extends ClientPoolError {
  static readonly code = 'ERR_CONCURRENCY_LIMITED';
  override readonly name = 'ConcurrencyLimitedError';
  readonly code = ConcurrencyLimitedError.code;
  constructor() {
    super('every client is at its maxInFlight and none freed a slot within maxWait');
  }
}

/**
 * A low-priority call (`priority: 'low'`) shed rather than kept waiting: no client, token or slot was
 * free for it at once outside the share the pool keeps for higher priorities (`reserve`). Load shedding
 * by priority, as Netflix's concurrency-limits partitions and Envoy's overload manager do: the lowest
 * priority goes first, before it waits. Not a failure of any client; `cause` is what it would have
 * waited for (a `RateLimitedError` or `ConcurrencyLimitedError`), when there was one.
 */
export class ShedError extends ClientPoolError {
  static readonly code = 'ERR_SHED';
  override readonly name = 'ShedError';
  readonly code = ShedError.code;
  /** What it found short: a client (`client`: none free, or all at their reserve) or a pool-wide token (`token`). */
  readonly short: 'client' | 'token';
  constructor(short: 'client' | 'token', cause?: unknown) {
    super(`low-priority call shed: no ${short === 'client' ? 'client' : 'pool-wide token'} free outside the share kept for higher priorities`, cause === undefined ? undefined : { cause });
    this.short = short;
  }
}

/**
 * No client in sync with the pool's head had reached the call's `minHeight` within `maxWait` (or the
 * call's deadline): a read-your-writes call would have read stale data. Not a failure of any client.
 */
export class HeightNotReachedError extends ClientPoolError {
  static readonly code = 'ERR_HEIGHT_NOT_REACHED';
  override readonly name = 'HeightNotReachedError';
  readonly code = HeightNotReachedError.code;
  /** The call's `minHeight`. */
  readonly minHeight: number;
  /** The highest height of a client that could serve when it gave up, or `undefined` if none had one. */
  readonly highest: number | undefined;
  constructor(minHeight: number, highest: number | undefined) {
    super(`no client in sync with the head could serve height ${minHeight} in time (highest in sync: ${highest ?? 'none known'})`);
    this.minHeight = minHeight;
    this.highest = highest;
  }
}

/**
 * The call's `deadline` passed: the whole call, every attempt, wait, backoff and hedge included, is over.
 * An attempt the deadline ended counts against its client when it had more than half the longest time
 * any attempt of the call could have (min(`timeout`, `deadline`)); a late retry or hedge it cut short does
 * not. A
 * retry whose backoff could not end before the deadline is not started, nor a retry whose wait for a
 * token or a client the deadline ended: `cause` is the last attempt's error. A first attempt's wait the
 * deadline ended has the wait's refusal as `cause`.
 */
export class DeadlineExceededError extends ClientPoolError {
  static readonly code = 'ERR_DEADLINE_EXCEEDED';
  override readonly name = 'DeadlineExceededError';
  readonly code = DeadlineExceededError.code;
  /** The call's deadline, in ms from its start. */
  readonly deadlineMs: number;
  constructor(deadlineMs: number, clientName?: string, cause?: unknown) {
    super(`call deadline of ${deadlineMs} ms exceeded${clientName === undefined ? '' : ` on client ${clientName}`}`, cause === undefined ? undefined : { cause });
    this.deadlineMs = deadlineMs;
  }
}

/** One client's answer in a quorum read (`pool.quorum()`), as {@link QuorumError} lists it. */
export interface QuorumAnswer {
  /** The client's name in the pool. */
  readonly client: string;
  readonly value: unknown;
}

/** One attempt of a quorum read that failed, as {@link QuorumError} lists it. */
export interface QuorumFailure {
  /** The client's name in the pool; `''` when the attempt failed before a client was chosen. */
  readonly client: string;
  readonly error: Error;
}

/**
 * `pool.quorum()` could not get `agree` matching answers from `of` distinct clients. `reason` says why:
 * `no-agreement` (the answers split, or too many attempts failed, so that no value could still reach
 * `agree`: raised as soon as that is certain) or `too-few-clients` (fewer than `of` clients could take a
 * call when it started: it failed at once, without calling any). `answers` and `errors` list every
 * attempt that ended before the verdict; `cause` is the first error, if any.
 */
export class QuorumError extends ClientPoolError {
  static readonly code = 'ERR_QUORUM';
  override readonly name = 'QuorumError';
  readonly code = QuorumError.code;
  readonly reason: 'no-agreement' | 'too-few-clients';
  /** Distinct clients asked for. */
  readonly of: number;
  /** Matching answers needed. */
  readonly agree: number;
  /** Clients that could take part when the call started (not open, not down). */
  readonly available: number;
  readonly answers: readonly QuorumAnswer[];
  readonly errors: readonly QuorumFailure[];
  constructor(reason: 'no-agreement' | 'too-few-clients', of: number, agree: number, available: number, answers: readonly QuorumAnswer[], errors: readonly QuorumFailure[], split = '') {
    const cause = errors[0]?.error;
    super(
      reason === 'too-few-clients'
        ? `quorum needs ${of} distinct client${of === 1 ? '' : 's'}, but only ${available} can take a call`
        : `no ${agree} of ${of} answers agree: ${answers.length} answer(s)${split === '' ? '' : ` split ${split}`}, ${errors.length} error(s)${cause === undefined ? '' : ` (first: ${messageOf(cause)})`}`,
      cause === undefined ? undefined : { cause },
    );
    this.reason = reason;
    this.of = of;
    this.agree = agree;
    this.available = available;
    this.answers = answers;
    this.errors = errors;
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
  | RateLimitedError
  | CallbackError
  | RetryBudgetExhaustedError
  | DeadlineExceededError
  | ConcurrencyLimitedError
  | ShedError
  | HeightNotReachedError
  | QuorumError
  | ExcludedMethodError
  | MissingMethodError
  | ConfigMismatchError;

/** Every code clientpool uses. */
export type ClientPoolErrorCode = AnyClientPoolError['code'];

/** Clients named in an {@link AllCircuitsOpenError} message at most; its `clients` lists them all. */
const LISTED_CLIENTS = 10;
/** Characters of a client name in a message at most. */
const MAX_NAME = 100;
/** Characters of a value rendered by {@link describe} at most. */
const MAX_DESCRIBED = 200;
/** Nesting {@link describe} shows; deeper objects and arrays are elided. */
const MAX_DEPTH = 4;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An error's message, to quote in another message; never throws, whatever the error's getters do. */
function messageOf(error: Error): string {
  try {
    const message: unknown = error.message;
    return typeof message === 'string' ? message : describe(message);
  } catch {
    return '(unreadable message)';
  }
}

/**
 * Render a bad value for an error message: `NaN`, `"abc"`, `undefined`, `{"a":1}`, `function f`.
 * Error messages are built from whatever a user passed, so this never throws and stays under about 200
 * characters whatever the value: getters or `toJSON` that throw, Proxies that throw on every trap, cycles,
 * huge strings, arrays or nesting. Rendering stops once the budget is spent rather than building the
 * whole text and cutting it.
 */
function describe(value: unknown): string {
  let text: string;
  try {
    text = render(value, MAX_DESCRIBED, new Set(), 0);
  } catch {
    text = tagOf(value);
  }
  return clip(text, MAX_DESCRIBED);
}

/** JSON-like text of `value` in about `room` characters (it may overshoot by a little; the caller clips). */
function render(value: unknown, room: number, path: Set<object>, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > room ? value.slice(0, room) : value);
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return clip(value.toString(), room);
    case 'function':
      return `function ${clip(nameOf(value), room)}`;
    case 'object':
      return value === null ? 'null' : renderObject(value, room, path, depth);
  }
}

function renderObject(value: object, room: number, path: Set<object>, depth: number): string {
  if (path.has(value)) return '[Circular]';
  try {
    path.add(value);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    // As JSON.stringify would: a Date shows as its ISO string.
    if (typeof toJSON === 'function') return render(toJSON.call(value), room, path, depth + 1);
    const isList = Array.isArray(value) || ArrayBuffer.isView(value);
    if (depth >= MAX_DEPTH) return isList ? '[…]' : '{…}';
    const parts: string[] = [];
    let used = 2;
    if (isList) {
      // By index, not Object.keys: a typed array of millions would otherwise make millions of strings.
      const length = Number((value as { length?: unknown }).length) || 0;
      for (let i = 0; i < length && used < room; i++) used += push(parts, '', value, i, room - used, path, depth) + 1;
      if (parts.length < length) parts.push('…');
      return `[${parts.join(',')}]`;
    }
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length && used < room; i++) {
      const key = keys[i]!;
      used += push(parts, `${JSON.stringify(clip(key, room))}:`, value, key, room - used, path, depth) + 1;
    }
    if (parts.length < keys.length) parts.push('…');
    return `{${parts.join(',')}}`;
  } catch {
    return tagOf(value);
  } finally {
    path.delete(value);
  }
}

/** Append `prefix` and the rendering of `owner[key]` to `parts`; a getter that throws shows as `[unreadable]`. */
function push(parts: string[], prefix: string, owner: object, key: PropertyKey, room: number, path: Set<object>, depth: number): number {
  let text: string;
  try {
    text = prefix + render((owner as Record<PropertyKey, unknown>)[key], room - prefix.length, path, depth + 1);
  } catch {
    text = `${prefix}[unreadable]`;
  }
  parts.push(text);
  return text.length;
}

function nameOf(f: unknown): string {
  try {
    const name = (f as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : '(anonymous)';
  } catch {
    return '(anonymous)';
  }
}

/** `[object Object]`, `[object Map]`..., or `[object]` when even that throws (a revoked Proxy). */
function tagOf(value: unknown): string {
  try {
    return clip(Object.prototype.toString.call(value), MAX_DESCRIBED);
  } catch {
    return '[object]';
  }
}
