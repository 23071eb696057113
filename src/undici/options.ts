import type { Dispatcher } from 'undici';
import type { AddOptions, PoolOptions } from '../pool-options.js';
import type { ClientPool } from '../pool.js';
import { InvalidOptionError } from '../errors.js';
import { callable, keySet, knownKeys, nonEmptyString, optionsObject, unreadableOptions } from '../validate.js';
import { guardedFailureStatus, guardedLabel, type FailureStatus, type Labeller } from './callbacks.js';
import { IDEMPOTENT_METHODS } from './replay.js';
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
   * repeated). Any other status is the server answering, passed to the caller as it is. Must return a
   * boolean, synchronously: one that throws or returns anything else (a promise) fails the request with
   * a `CallbackError` (`ERR_CALLBACK`, what it threw as `cause`), not counted against the origin.
   * @default (status) => status >= 500 || status === 429
   */
  readonly isFailureStatus?: (statusCode: number) => boolean;
  /**
   * The `method` label of a request in the pool's metrics, traces and per-method options. Keep the set
   * of values small (no ids, no full paths). One that throws or returns anything but a non-empty string
   * gives the default (the method), reported once as a `CLIENTPOOL_CALLBACK_ERROR` process warning; the
   * request goes on.
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

/** {@link PoolDispatcherOptions}, read once and checked; the callbacks guarded (see `callbacks.ts`). */
export interface ResolvedDispatcherOptions {
  readonly origins: readonly ResolvedOrigin[];
  /** The `pool` option: a pool of the caller's, or options for a new one with the dispatcher's defaults. */
  readonly pool: PoolOptions<Upstream> | ClientPool<Upstream>;
  /** Whether the pool can end an attempt early (see `ExchangeHost.isAbortable`). */
  readonly isAbortable: boolean;
  /** The `origins` option as given, for the error when there are none. */
  readonly givenOrigins: unknown;
  readonly factory: ((origin: string) => Dispatcher) | undefined;
  readonly isFailureStatus: FailureStatus;
  readonly label: Labeller;
  readonly methods: ReadonlySet<string>;
  readonly bufferBody: number;
  readonly serviceOrigin: string | undefined;
  readonly fallback: Dispatcher | undefined;
}

/**
 * Read and check every option once (every getter is called here, never per request).
 * @throws InvalidOptionError naming the option and the bad value; an options object, origin entry or
 * list whose getter or Proxy trap throws is refused naming `options`, with the throw as the `cause`.
 */
export function resolveDispatcherOptions(options: unknown): ResolvedDispatcherOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object with origins', options);
  knownKeys('options', options, KEYS);
  try {
    const given = options as PoolDispatcherOptions;
    const { pool, factory, isFailureStatus, label, idempotentMethods, bufferBody, serviceOrigin, fallback } = given;
    const origins = given.origins;
    if (fallback !== undefined && !isDispatcher(fallback)) throw new InvalidOptionError('fallback', 'an undici Dispatcher', fallback);
    const ownPool = isPool(pool) ? undefined : withDefaults(pool === undefined ? undefined : poolOptions(pool));
    return {
      origins: resolveOrigins(origins),
      pool: ownPool ?? (pool as ClientPool<Upstream>),
      isAbortable: ownPool === undefined || endsAttempts(ownPool),
      givenOrigins: origins,
      factory: factory === undefined ? undefined : callable<(origin: string) => Dispatcher>('factory', factory),
      isFailureStatus: guardedFailureStatus(isFailureStatus === undefined ? undefined : callable<FailureStatus>('isFailureStatus', isFailureStatus)),
      label: guardedLabel(label === undefined ? undefined : callable<Labeller>('label', label)),
      methods: resolveMethods(idempotentMethods, IDEMPOTENT_METHODS),
      bufferBody: bufferBody === undefined ? 0 : byteCount('bufferBody', bufferBody),
      serviceOrigin: serviceOrigin === undefined ? undefined : canonicalOrigin('serviceOrigin', serviceOrigin),
      fallback,
    };
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
}

const DEFAULT_RETRY = Object.freeze({ attempts: 3 });

/** Pool options with the dispatcher's default: retry on another origin. */
function withDefaults(options: PoolOptions<Upstream> | undefined): PoolOptions<Upstream> {
  if (options === undefined) return { retry: DEFAULT_RETRY };
  return options.retry === undefined ? { ...options, retry: DEFAULT_RETRY } : options;
}

/**
 * Whether pool options let the pool end an attempt before it settles, other than by `destroy()`: a
 * timeout, a deadline or a hedge, pool-wide or per method.
 */
function endsAttempts(options: PoolOptions<Upstream> | undefined): boolean {
  if (options === undefined) return false;
  const ends = (o: { readonly timeout?: unknown; readonly deadline?: unknown; readonly hedge?: unknown }): boolean => o.timeout !== undefined || o.deadline !== undefined || (o.hedge !== undefined && o.hedge !== false);
  return ends(options) || (options.methods !== undefined && Object.values(options.methods).some(ends));
}

function poolOptions(value: unknown): PoolOptions<Upstream> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError('pool', 'pool options or a ClientPool', value);
  return value;
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

/**
 * Whether `value` looks like an undici Dispatcher (duck-typed: two copies of undici may be installed).
 * Never throws: a value whose `dispatch` cannot be read is none.
 */
export function isDispatcher(value: unknown): value is Dispatcher {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { dispatch?: unknown }).dispatch === 'function';
  } catch {
    return false;
  }
}

/** Whether `value` is a `ClientPool` (duck-typed: the ESM and CJS builds each have the class). Never throws. */
export function isPool(value: unknown): value is ClientPool<Upstream> {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function' && typeof (value as { add?: unknown }).add === 'function';
  } catch {
    return false;
  }
}

/** A byte count option: an integer from 0 to 2^31-1. */
export function byteCount(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) throw new InvalidOptionError(option, 'an integer number of bytes from 0 to 2^31-1', value);
  return value;
}
