import type { Call } from '../call.js';
import { parseRetryAfter } from '../util/retry-after.js';

/** Links of a `cause` chain followed at most: chains can be cyclic. */
const MAX_DEPTH = 16;

/**
 * The pause an HTTP 429 asks for, in ms: its `Retry-After` header (seconds, or an HTTP date) found along
 * the error's `cause` chain, on viem's `HttpRequestError`/`RpcRequestError` (`status`, `headers`) or a
 * @solana/kit `SolanaError` (`context.statusCode`, `context.headers`). Undefined when there is no 429 or
 * no readable header. Never throws.
 * @param now wall-clock time in ms, for the HTTP-date form. @default Date.now()
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  try {
    let link: unknown = error;
    for (let depth = 0; depth < MAX_DEPTH && typeof link === 'object' && link !== null; depth++) {
      const { status, headers, context } = link as { status?: unknown; headers?: unknown; context?: unknown };
      if (status === 429) return headerDelay(headers, now);
      if (typeof context === 'object' && context !== null) {
        const kit = context as { statusCode?: unknown; headers?: unknown };
        if (kit.statusCode === 429) return headerDelay(kit.headers, now);
      }
      link = (link as { cause?: unknown }).cause;
    }
  } catch {
    // A getter or a Proxy that throws: no pause to read.
  }
  return undefined;
}

export { parseRetryAfter } from '../util/retry-after.js';

function headerDelay(headers: unknown, now: number): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  // A `Headers` (fetch), or a plain record.
  const value = typeof get === 'function' ? (get as (name: string) => unknown).call(headers, 'retry-after') : (headers as Record<string, unknown>)['retry-after'];
  return typeof value === 'string' ? parseRetryAfter(value, now) : undefined;
}

/**
 * Pause the call's client for the `Retry-After` of a 429 among the error's causes, at most `maxPause`
 * ms: the pool then routes around it while the others carry on.
 */
export function pauseOnRetryAfter(error: unknown, call: Call<unknown>, maxPause: number): void {
  const ms = retryAfterMs(error);
  if (ms !== undefined && ms > 0 && maxPause > 0) call.pauseClient(Math.min(ms, maxPause));
}
