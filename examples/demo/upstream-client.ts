// The client type of the demo: a small typed HTTP API client over an undici dispatcher, one per upstream.
// The code generator reads this file to write examples/generated/multi-upstream-client.ts; regenerate
// it after changing a method here (the e2e test runs the generator with --check).
import type { Dispatcher } from 'undici';

/** An item of the demo API. */
export interface Item {
  readonly id: number;
  readonly name: string;
  /** Which upstream served it. */
  readonly upstream: string;
}

/** The answer to a search. */
export interface SearchResult {
  readonly query: string;
  readonly hits: readonly Item[];
  readonly upstream: string;
}

/** What an upstream says about itself. */
export interface Status {
  readonly upstream: string;
  /** Milliseconds since this upstream process (re)started. */
  readonly uptimeMs: number;
  readonly served: number;
}

/** Options of one request. */
export interface RequestOptions {
  /** Aborts the HTTP request: pass the pool's `call.signal` so that a timeout or a lost hedge race frees the connection. */
  readonly signal?: AbortSignal;
}

/** An upstream answered with a status other than 200. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly status: number;
  constructor(origin: string, path: string, status: number) {
    super(`GET ${origin}${path} answered HTTP ${status}`);
    this.status = status;
  }
}

/**
 * Headers and body must arrive within this many ms. The pool's own timeout (1 s) ends the call sooner;
 * this bounds a request nobody waits for any more (one made through the proxy or the generated wrapper,
 * which cannot pass the attempt's signal on).
 */
const REQUEST_TIMEOUT_MS = 2_000;

/** A typed client of one upstream's HTTP API. */
export class UpstreamClient {
  /** Where the upstream listens: `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly #dispatcher: Dispatcher;

  constructor(origin: string, dispatcher: Dispatcher) {
    this.origin = origin;
    this.#dispatcher = dispatcher;
  }

  /** One item by id. */
  getItem(id: number, options?: RequestOptions): Promise<Item> {
    return this.#get(`/items/${id}`, options);
  }

  /** Items whose name contains `query`, at most `limit` of them (5 by default). */
  search(query: string, limit?: number, options?: RequestOptions): Promise<SearchResult> {
    const params = new URLSearchParams({ q: query });
    if (limit !== undefined) params.set('limit', String(limit));
    return this.#get(`/search?${params.toString()}`, options);
  }

  /** The upstream's uptime and request count. */
  getStatus(options?: RequestOptions): Promise<Status> {
    return this.#get('/status', options);
  }

  async #get<R>(path: string, options: RequestOptions | undefined): Promise<R> {
    const response = await this.#dispatcher.request({
      method: 'GET',
      path,
      signal: options?.signal ?? null,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new UpstreamError(this.origin, path, response.statusCode);
    }
    return (await response.body.json()) as R;
  }
}
