import { ClientPoolError, InvalidOptionError } from '../errors.js';

/** Characters of a fingerprint quoted in a {@link ConfigMismatchError} message at most (the fields keep it whole). */
const MAX_QUOTED = 200;

/**
 * The settings that every process sharing one Redis key must agree on, as short, stable, human-readable
 * text: `name=value` pairs sorted by name and joined by `;`, e.g. `burst=10;per=1000;rate=10`. Numbers are
 * written with `String()` (the shortest text that reads back as the same double: `0.1` stays `0.1`),
 * booleans as `true`/`false`, strings as they are.
 *
 * The text never contains `|` (stored values put it between the state and the fingerprint), and it is
 * unambiguous: `%`, `|`, `;` and `=` in a name or a string value are written `%25`, `%7C`, `%3B`, `%3D`.
 * Two settings objects give the same text exactly when they have the same names with the same values.
 *
 * Throws `InvalidOptionError` (option `settings`) when `settings` is not a non-empty plain object of
 * numbers, strings and booleans (an empty text would read as "no fingerprint").
 *
 * @example
 * ```ts
 * configFingerprint({ rate: 10, per: 1_000, burst: 10 }); // 'burst=10;per=1000;rate=10'
 * ```
 */
export function configFingerprint(settings: Readonly<Record<string, number | string | boolean>>): string {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidOptionError('settings', 'an object of numbers, strings and booleans', settings);
  }
  const names = Object.keys(settings).sort();
  if (names.length === 0) throw new InvalidOptionError('settings', 'an object with at least one setting', settings);
  const pairs: string[] = [];
  for (const name of names) {
    const value: unknown = settings[name];
    if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') {
      throw new InvalidOptionError(`settings.${name}`, 'a number, a string or a boolean', value);
    }
    pairs.push(`${escape(name)}=${escape(String(value))}`);
  }
  return pairs.join(';');
}

/** Percent-encode the characters the fingerprint's own syntax uses, `%` first so the result decodes one way. */
function escape(text: string): string {
  return /[%|;=]/.test(text) ? text.replace(/[%|;=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : text;
}

/**
 * Another process uses the same Redis key with other settings (its fingerprint differs from this one's):
 * each believes its own limit, so the key enforces neither. `ours` is this process's
 * {@link configFingerprint}, `theirs` the one found stored with the key (written by the last other process
 * that used it).
 */
export class ConfigMismatchError extends ClientPoolError {
  static readonly code = 'ERR_CONFIG_MISMATCH';
  override readonly name = 'ConfigMismatchError';
  readonly code = ConfigMismatchError.code;
  /** The Redis key both use (without the client's `keyPrefix`). */
  readonly key: string;
  /** This process's settings, as {@link configFingerprint} writes them. */
  readonly ours: string;
  /** The settings stored with the key by another process. */
  readonly theirs: string;
  constructor(key: string, ours: string, theirs: string) {
    super(`Redis key ${JSON.stringify(clip(key))} is used with ${clip(ours)} here and with ${clip(theirs)} by another process`);
    this.key = key;
    this.ours = ours;
    this.theirs = theirs;
  }
}

function clip(text: string): string {
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}
