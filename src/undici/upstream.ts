import type { Dispatcher } from 'undici';

/**
 * One origin of a {@link PoolDispatcher}: the client type of its pool. Requests picked for it are sent
 * through `dispatcher` with their origin set to `origin`.
 */
export interface Upstream {
  /** Scheme, host and port, e.g. `http://10.0.0.1:8080` (a URL's `origin`). */
  readonly origin: string;
  /** What sends the requests: an undici `Pool` for that origin by default (see the `factory` option). */
  readonly dispatcher: Dispatcher;
}
