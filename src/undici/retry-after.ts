/** The longest pause taken from a `Retry-After` (the longest Node timer, as every duration here). */
const MAX_PAUSE_MS = 2 ** 31 - 1;

/**
 * A `Retry-After` header in ms from now: delay-seconds (`120`) or an HTTP date. Undefined when absent,
 * unparsable, or not in the future; capped at 2^31-1 ms. `now` is wall-clock ms (HTTP dates are).
 */
export function retryAfterMs(header: string | string[] | undefined, now: () => number = Date.now): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1_000;
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now();
  }
  if (!(ms > 0)) return undefined;
  return Math.min(ms, MAX_PAUSE_MS);
}
