import { ClientPoolError } from '../errors.js';

/**
 * An origin answered with a status that counts against it (5xx or 429 by default): the attempt failed
 * and the pool may move the request to another origin. The caller sees the response itself when no
 * other origin answers better (the last failing response is delivered, body and all), so this error
 * is read mostly by the pool's breaker, retry and observers (`cause` of a `ClientCallError`).
 */
export class UpstreamStatusError extends ClientPoolError {
  static readonly code = 'ERR_UPSTREAM_STATUS';
  override readonly name = 'UpstreamStatusError';
  readonly code = UpstreamStatusError.code;
  /** The HTTP status, e.g. 503. */
  readonly statusCode: number;
  /** The origin that answered, e.g. `http://10.0.0.1:8080`. */
  readonly origin: string;
  /**
   * How long the origin asked to be left alone (its `Retry-After`, in ms), or undefined. The origin is
   * paused for that long (`call.pauseClient`); the retry goes to another origin at once. (Named so that
   * the pool's retry does not read it as a wait for the retry itself, which is `retryAfterMs`.)
   */
  readonly pauseMs: number | undefined;
  constructor(statusCode: number, origin: string, pauseMs: number | undefined) {
    super(`${origin} answered ${statusCode}${pauseMs === undefined ? '' : ` (retry after ${pauseMs} ms)`}`);
    this.statusCode = statusCode;
    this.origin = origin;
    this.pauseMs = pauseMs;
  }
}
