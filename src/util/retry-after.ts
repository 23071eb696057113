/**
 * The longest pause a `Retry-After` puts on one client by default, in ms: an upstream (or a typo, or a
 * hostile proxy) asking for days must not take a key or an origin out of the pool for days.
 */
export const DEFAULT_MAX_PAUSE_MS = 60_000;

// The three forms RFC 9110 §5.6.7 says a recipient accepts: IMF-fixdate, RFC 850 and asctime.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC_850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * A `Retry-After` value in ms from `now` (RFC 9110 §10.2.3): delay-seconds (`120`, and `1.5`, which some
 * servers send), or an HTTP date in one of the three forms RFC 9110 accepts (0 once past). Undefined for
 * anything else: a lenient `Date.parse` would read `"x 2099"` as a date 73 years away.
 * @param now wall-clock ms since the epoch (HTTP dates are wall-clock).
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1_000;
  if (!IMF_FIXDATE.test(text) && !RFC_850.test(text) && !ASCTIME.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
