import { catchRejection, warnOnce } from './warn.js';

/** The label of every method outside the known set: metrics and traces stay bounded whatever is called. */
export const OTHER_METHOD = 'other';

/**
 * The method label of each request (`RunOptions.method`, hence the `method` label of metrics): the
 * JSON-RPC method itself when it is one of `known`, `other` for the rest, or what `custom` returns.
 * A `custom` that throws or returns something other than a non-empty string (a promise, whose rejection
 * is caught) gives `other`, reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning. Labels are cached per method (at most `known.size` + 256
 * entries, then `custom` is asked each time).
 */
export function methodLabeler(known: ReadonlySet<string>, custom: ((method: string) => string) | undefined, option: string): (method: string) => string {
  if (custom === undefined) return (method) => (known.has(method) ? method : OTHER_METHOD);
  const cache = new Map<string, string>();
  const warned = new Set<string>();
  return (method) => {
    const cached = cache.get(method);
    if (cached !== undefined) return cached;
    let label: unknown;
    try {
      label = custom(method);
    } catch (error) {
      warnOnce(warned, option, error, `The request was labelled "${OTHER_METHOD}".`);
      return OTHER_METHOD;
    }
    if (typeof label !== 'string' || label === '') {
      catchRejection(label);
      warnOnce(warned, option, new TypeError(`returned ${typeof label === 'string' ? 'an empty string' : typeof label}, not a label`), `The request was labelled "${OTHER_METHOD}".`);
      return OTHER_METHOD;
    }
    if (cache.size < known.size + 256) cache.set(method, label);
    return label;
  };
}
