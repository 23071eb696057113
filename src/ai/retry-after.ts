import { DEFAULT_MAX_PAUSE_MS, parseRetryAfter } from '../util/retry-after.js';
import { modelErrorStatus } from './classify.js';

/** The longest pause one 429 puts on a key: 60 s, so that an answer asking for days cannot take it out for days. */
const MAX_PAUSE_MS = DEFAULT_MAX_PAUSE_MS;

/** Links of a `cause` chain read at most: chains can be cyclic. */
const MAX_DEPTH = 8;

/**
 * How long the upstream asked this key to pause, in ms, when `error` is a rate limit (HTTP 429): its
 * `retry-after-ms` header (ms, fractions allowed), else its `retry-after` header (seconds, or an HTTP
 * date), else `fallbackMs`. `undefined` when the error is not a 429. Headers are read from the first
 * `responseHeaders` (an `APICallError`'s) along the `cause` chain, by lower-case name as the AI SDK
 * stores them (other cases are matched too). The result is clamped to [0, 60 s]. Never throws.
 *
 * @param now Wall-clock time in ms since the epoch, for an HTTP-date `retry-after`. @default Date.now()
 */
export function rateLimitPauseMs(error: unknown, fallbackMs: number, now: number = Date.now()): number | undefined {
  if (modelErrorStatus(error) !== 429) return undefined;
  const headers = responseHeaders(error);
  const ms = headers === undefined ? undefined : (millis(header(headers, 'retry-after-ms')) ?? retryAfter(header(headers, 'retry-after'), now));
  return Math.min(MAX_PAUSE_MS, Math.max(0, ms ?? fallbackMs));
}

function responseHeaders(error: unknown): Record<string, unknown> | undefined {
  try {
    let e: unknown = error;
    for (let depth = 0; depth < MAX_DEPTH && typeof e === 'object' && e !== null; depth++) {
      const headers = (e as { responseHeaders?: unknown }).responseHeaders;
      if (typeof headers === 'object' && headers !== null) return headers as Record<string, unknown>;
      e = (e as { cause?: unknown }).cause;
    }
  } catch {
    // Unreadable: no headers.
  }
  return undefined;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  try {
    const exact = headers[name];
    if (typeof exact === 'string') return exact;
    for (const key of Object.keys(headers)) {
      const value = headers[key];
      if (key.toLowerCase() === name && typeof value === 'string') return value;
    }
  } catch {
    // A Proxy or getter that throws: no such header.
  }
  return undefined;
}

/** `retry-after-ms`: a non-negative number of ms. */
function millis(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** `retry-after`: delay-seconds, or an HTTP date (RFC 9110 §10.2.3). */
function retryAfter(value: string | undefined, now: number): number | undefined {
  return value === undefined ? undefined : parseRetryAfter(value, now);
}
