import { DEFAULT_MAX_PAUSE_MS, parseRetryAfter } from '../util/retry-after.js';

/**
 * A `Retry-After` header in ms from now: delay-seconds (`120`) or an HTTP date (RFC 9110's forms only).
 * Undefined when absent, unparsable, or not in the future; capped at 60 s ({@link DEFAULT_MAX_PAUSE_MS}):
 * one answer must not take an origin out of the pool for days. `now` is wall-clock ms (HTTP dates are).
 */
export function retryAfterMs(header: string | string[] | undefined, now: () => number = Date.now): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const ms = parseRetryAfter(value, now());
  if (ms === undefined || !(ms > 0)) return undefined;
  return Math.min(ms, DEFAULT_MAX_PAUSE_MS);
}
