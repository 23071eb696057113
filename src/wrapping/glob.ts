/**
 * A name or dotted-path pattern as a regular expression, anchored at both ends: `*` matches within one
 * path segment, `**` across segments, `?` one character of a segment; every other character is literal.
 * `get*` matches `get` and `getBuffer`; `chat.**` everything under `chat`. Shared by `pool.proxy()`'s
 * `include`/`exclude` and the code generator's `--include`/`--exclude`.
 */
export function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/\*\*|\*|\?|[.+^${}()|[\]\\]/g, (token) => {
    if (token === '**') return '.*';
    if (token === '*') return '[^.]*';
    if (token === '?') return '[^.]';
    return `\\${token}`;
  });
  return new RegExp(`^${body}$`);
}

/** Whether `pattern` has a wildcard (`*`, `**`, `?`), as opposed to naming one member. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}
