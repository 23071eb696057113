import { Agent, Dispatcher, Pool } from 'undici';
import { CallbackError, InvalidOptionError, PoolClosedError } from '../errors.js';
import { ClientPool } from '../pool.js';
import { downstreamOf } from './downstream.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import { catchRejection } from '../jsonrpc/warn.js';
import { isDispatcher, isPool, resolveDispatcherOptions, type PoolDispatcherOptions } from './options.js';
import type { Upstream } from './upstream.js';

/**
 * An undici `Dispatcher` that spreads requests over several origins through a {@link ClientPool}: the
 * pool picks an origin per request (its strategy, breaker, limits, tiers), retries and hedges on another
 * origin when that is safe, and every metric and event of the pool applies. Use it wherever undici takes
 * a dispatcher: `fetch(url, { dispatcher })`, `request(url, { dispatcher })`, `setGlobalDispatcher()`.
 *
 * A request's own origin only chooses whether it goes to the pool (see `serviceOrigin`); its path and
 * query are sent to the origin picked. It is retried or hedged only while that is safe: an idempotent
 * method (or `idempotent: true`), a body that can be sent again, and no response started reaching the
 * caller. A 5xx or 429 counts against the origin (a `Retry-After` pauses it) and moves the request on;
 * another 4xx is the server's answer, passed through. Connection errors count against the origin.
 *
 * @example
 * ```ts
 * const dispatcher = poolDispatcher({ origins: ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'], pool: { timeout: 2_000 } });
 * const response = await fetch('http://api/users/1', { dispatcher });
 * await dispatcher.close();
 * ```
 */
export class PoolDispatcher extends Dispatcher {
  /** The pool behind the dispatcher: `members()`, events, `use()` for middleware. Owned: closed with it. */
  readonly pool: ClientPool<Upstream>;
  readonly #host: ExchangeHost;
  /** Per-origin dispatchers made here, destroyed by `destroy()`. */
  readonly #own: Dispatcher[] = [];
  readonly #serviceOrigin: string | undefined;
  #fallback: Dispatcher | undefined;
  readonly #ownsFallback: boolean;
  #closing: Promise<void> | undefined;

  /**
   * @throws InvalidOptionError for a bad option (naming it and the value), a duplicate origin, or no origin.
   * @throws CallbackError when `factory` throws or returns something that is not a Dispatcher.
   */
  constructor(options: PoolDispatcherOptions) {
    super();
    const resolved = resolveDispatcherOptions(options);
    const { origins, label, isFailureStatus, methods, bufferBody } = resolved;
    const factory = resolved.factory ?? ((origin: string): Dispatcher => new Pool(origin));
    this.#serviceOrigin = resolved.serviceOrigin;
    this.#fallback = resolved.fallback;
    this.#ownsFallback = resolved.fallback === undefined;
    const given = resolved.pool;
    const pool = isPool(given) ? given : poolFrom(given);
    if (origins.length === 0 && pool.size === 0) throw new InvalidOptionError('origins', 'at least one origin (or a pool that holds clients)', resolved.givenOrigins);
    const added: string[] = [];
    try {
      for (const { origin, add } of origins) {
        const dispatcher = this.#make(factory, origin);
        added.push(pool.add({ origin, dispatcher }, { name: origin, ...add, close: closeDispatcher }));
      }
    } catch (error) {
      // Leave nothing open behind a refused option, and a pool of the caller's as it was.
      void Promise.allSettled(this.#own.map((d) => d.destroy(null)));
      if (isPool(given)) for (const name of added) pool.remove(name).catch(() => undefined);
      else pool.destroy().catch(() => undefined);
      throw error;
    }
    this.pool = pool;
    this.#host = { pool, isFailureStatus, label, methods, bufferBody, isAbortable: resolved.isAbortable, controllers: [], now: Date.now, buffering: new Set() };
  }

  #make(factory: (origin: string) => Dispatcher, origin: string): Dispatcher {
    let dispatcher: unknown;
    try {
      dispatcher = factory(origin);
    } catch (error) {
      throw new CallbackError('the factory', `threw for ${origin}`, error);
    }
    if (!isDispatcher(dispatcher)) {
      catchRejection(dispatcher);
      throw new CallbackError('the factory', `returned ${dispatcher === null ? 'null' : typeof dispatcher} for ${origin}, not a Dispatcher`);
    }
    this.#own.push(dispatcher);
    return dispatcher;
  }

  /** Send one request: to the pool's origins, or to `fallback` when `serviceOrigin` says it is not for them. Always `true` (never busy: the pool queues). */
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (typeof handler !== 'object' || handler === null) throw new InvalidOptionError('handler', 'an object', handler);
    // Once closing, a request for another origin is refused as the pool's are (PoolClosedError), not sent
    // through a fallback made now that nothing would close.
    if (this.#closing === undefined && this.#serviceOrigin !== undefined && !isSameOrigin(options.origin, this.#serviceOrigin)) return this.#fallbackDispatcher().dispatch(options, handler);
    new Exchange(this.#host, options, downstreamOf(handler)).start();
    return true;
  }

  /** Requests still reading their body could never be sent now: they end with `reason`. */
  #endBuffering(reason: Error): void {
    for (const exchange of [...this.#host.buffering]) exchange.abort(reason);
  }

  #fallbackDispatcher(): Dispatcher {
    return (this.#fallback ??= new Agent());
  }

  /** Close the pool (waiting for requests in flight) and every dispatcher made for it, then the fallback it made. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closing = (this.#closing ??= this.#close());
    if (callback === undefined) return closing;
    closing.then(callback, callback);
  }

  async #close(): Promise<void> {
    this.#endBuffering(new PoolClosedError());
    const fallback = this.#ownsFallback ? this.#fallback : undefined;
    const [pool] = await Promise.allSettled([this.pool.close(), fallback?.close()]);
    if (pool.status === 'rejected') throw pool.reason;
  }

  /**
   * End every request now: attempts in flight abort, responses streaming error with `error`; then close
   * as `close()` does.
   */
  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const callback = typeof first === 'function' ? first : second;
    const error = typeof first === 'function' ? null : (first ?? null);
    const fallback = this.#ownsFallback ? this.#fallback : undefined;
    this.#endBuffering(error ?? new PoolClosedError());
    const destroying = Promise.allSettled([...this.#own.map((d) => d.destroy(error)), fallback?.destroy(error), this.pool.destroy(error ?? undefined)]).then(() => undefined);
    this.#closing ??= destroying;
    if (callback === undefined) return destroying;
    void destroying.then(callback);
  }
}

/**
 * A dispatcher over `options.origins` through a pool: see {@link PoolDispatcher}.
 * @example
 * ```ts
 * setGlobalDispatcher(poolDispatcher({ origins: ['http://a:8080', 'http://b:8080'], serviceOrigin: 'http://api' }));
 * ```
 */
export function poolDispatcher(options: PoolDispatcherOptions): PoolDispatcher {
  return new PoolDispatcher(options);
}

/** The pool's close hook for a dispatcher made here: closed, unless `destroy()` already ended it. */
function closeDispatcher(upstream: Upstream): Promise<void> | undefined {
  const dispatcher = upstream.dispatcher;
  return (dispatcher as { destroyed?: unknown }).destroyed === true ? undefined : dispatcher.close();
}

/**
 * Whether a request's origin (a string or URL, as undici takes it) is `origin`; strings as given are
 * compared first. A request with none (`dispatcher.request({ path })`) is the dispatcher's own.
 */
function isSameOrigin(value: string | URL | undefined, origin: string): boolean {
  if (value === origin || value === undefined) return true;
  try {
    return (value instanceof URL ? value : new URL(value)).origin === origin;
  } catch {
    return false;
  }
}

/** The pool made from `pool: { ... }` options: a refusal names the option as given there (`pool.timeout`). */
function poolFrom(options: ConstructorParameters<typeof ClientPool<Upstream>>[0]): ClientPool<Upstream> {
  try {
    return new ClientPool<Upstream>(options);
  } catch (error) {
    throw error instanceof InvalidOptionError ? error.within('pool') : error;
  }
}
