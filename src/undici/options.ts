import type { Dispatcher } from 'undici';
import type { AddOptions, PoolOptions } from '../pool-options.js';
import type { ClientPool } from '../pool.js';
import { InvalidOptionError } from '../errors.js';
import { keySet, knownKeys, nonEmptyString, optionsObject } from '../validate.js';
import type { Upstream } from './upstream.js';

/** An origin with its own options in the pool (weight, tier, limits: those of `pool.add()`). */
export interface OriginOptions extends Omit<AddOptions<Upstream>, 'close'> {
  /** Scheme, host and port: `http://10.0.0.1:8080`. No path, query or credentials. */
  readonly origin: string | URL;
}

/** Options of {@link poolDispatcher}. */
export interface PoolDispatcherOptions {
  /**
   * The origins requests are spread over, each an `http:`/`https:` origin (`'http://10.0.0.1:8080'`) or
   * an object with `origin` and `pool.add()` options (`{ origin, weight: 2, tier: 1, maxInFlight: 64 }`).
   * Each becomes a client of the pool named by its origin, sent through its own dispatcher (`factory`).
   * Required, with at least one, unless `pool` is a pool that already holds clients.
   */
  readonly origins?: readonly (string | URL | OriginOptions)[];
  /**
   * The pool that picks an origin per request: options for a new `ClientPool` (breaker, retry, hedge,
   * timeout, limits, middleware...), or a pool of your own (of {@link Upstream} clients), which the
   * dispatcher then owns: `close()` and `destroy()` close it. With options and no `retry` given, the
   * dispatcher retries on another origin: `retry: { attempts: 3 }` (`retry: false` for none). The pool's
   * `timeout` bounds each attempt until its response starts (the body then streams under undici's own
   * `bodyTimeout`).
   * @default { retry: { attempts: 3 } }
   */
  readonly pool?: PoolOptions<Upstream> | ClientPool<Upstream>;
  /**
   * Makes the dispatcher of one origin, as undici's `BalancedPool` `factory` does. Closed with the pool.
   * @default (origin) => new Pool(origin)
   */
  readonly factory?: (origin: string) => Dispatcher;
  /**
   * Methods that may be retried and hedged when their body can be sent again (none, a string or bytes).
   * A request can opt in or out on its own with undici's `idempotent` dispatch option.
   * @default ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']
   */
  readonly idempotentMethods?: readonly string[];
  /**
   * Opt-in for streamed request bodies (a Readable, an async iterable, and every `fetch()` body, which
   * undici streams): bytes of such a body read into memory before the first attempt, so that a request
   * that may be repeated (see `idempotentMethods`) still can be. A body that ends within the bound is sent
   * as bytes and may be retried and hedged; a longer one is sent as a stream (what was read first), to
   * one origin, never repeated. An integer from 0 to 2^31-1; 0 reads nothing ahead.
   * @default 0
   */
  readonly bufferBody?: number;
  /**
   * Response statuses that count against the origin and move the request to another (when it may be
   * repeated). Any other status is the server answering, passed to the caller as it is.
   * @default (status) => status >= 500 || status === 429
   */
  readonly isFailureStatus?: (statusCode: number) => boolean;
  /**
   * The `method` label of a request in the pool's metrics, traces and per-method options. Keep the set
   * of values small (no ids, no full paths).
   * @default (request) => request.method, e.g. `GET`
   */
  readonly label?: (request: Dispatcher.DispatchOptions) => string;
  /**
   * The origin callers address the pool by, e.g. `http://api.internal`: requests to it are spread over
   * `origins`, requests to any other origin go to `fallback`. Set it when the dispatcher is the global
   * one and the process talks to other hosts too.
   * @default none: every request is spread over `origins`, whatever its origin (only its path and query count)
   */
  readonly serviceOrigin?: string | URL;
  /**
   * Where requests to origins other than `serviceOrigin` go. Not closed by the dispatcher when given.
   * @default a new undici `Agent`, made at the first such request and closed with the dispatcher
   */
  readonly fallback?: Dispatcher;
}

/** An origin entry, checked: its canonical origin and the options of `pool.add()`. */
export interface ResolvedOrigin {
  readonly origin: string;
  readonly add: Omit<AddOptions<Upstream>, 'close'>;
}

const KEYS = keySet(['origins', 'pool', 'factory', 'idempotentMethods', 'bufferBody', 'isFailureStatus', 'label', 'serviceOrigin', 'fallback']);

/** Check the options' shape. @throws InvalidOptionError naming the option and the bad value. */
export function checkOptions(options: unknown): asserts options is PoolDispatcherOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object with origins', options);
  knownKeys('options', options, KEYS);
}

/** The `origins` option: each entry checked and made canonical. */
export function resolveOrigins(value: unknown): ResolvedOrigin[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('origins', 'an array of origins', value);
  return value.map((entry: unknown, i) => {
    const option = `origins[${i}]`;
    if (typeof entry === 'string' || entry instanceof URL) return { origin: canonicalOrigin(option, entry), add: {} };
    optionsObject(option, entry);
    if (entry === undefined) throw new InvalidOptionError(option, 'an origin or { origin, ...add options }', entry);
    const { origin, ...add } = entry as OriginOptions;
    if ('close' in add) throw new InvalidOptionError(`${option}.close`, 'absent (the dispatcher closes what it made)', (add as { close: unknown }).close);
    return { origin: canonicalOrigin(`${option}.origin`, origin), add };
  });
}

/** `http(s)://host:port` from a string or URL that has nothing else. */
export function canonicalOrigin(option: string, value: unknown): string {
  const expected = 'an http(s) origin with no path, query or credentials, e.g. "http://10.0.0.1:8080"';
  let url: URL;
  try {
    url = value instanceof URL ? value : new URL(nonEmptyString(option, value));
  } catch {
    throw new InvalidOptionError(option, expected, value);
  }
  const isBare = (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !isBare) throw new InvalidOptionError(option, expected, value);
  return url.origin;
}

/** The `idempotentMethods` option. */
export function resolveMethods(value: unknown, defaults: readonly string[]): ReadonlySet<string> {
  if (value === undefined) return new Set(defaults);
  if (!Array.isArray(value)) throw new InvalidOptionError('idempotentMethods', 'an array of method names', value);
  return new Set(value.map((method: unknown, i) => nonEmptyString(`idempotentMethods[${i}]`, method)));
}

/** Whether `value` looks like an undici Dispatcher (duck-typed: two copies of undici may be installed). */
export function isDispatcher(value: unknown): value is Dispatcher {
  return typeof value === 'object' && value !== null && typeof (value as { dispatch?: unknown }).dispatch === 'function';
}

/** Whether `value` is a `ClientPool` (duck-typed: the ESM and CJS builds each have the class). */
export function isPool(value: unknown): value is ClientPool<Upstream> {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function' && typeof (value as { add?: unknown }).add === 'function';
}

/** A byte count option: an integer from 0 to 2^31-1. */
export function byteCount(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) throw new InvalidOptionError(option, 'an integer number of bytes from 0 to 2^31-1', value);
  return value;
}
