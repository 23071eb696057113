/**
 * What a member of a client is, as a proxy sees it at run time: a method, a nested resource holding
 * methods (openai's `chat`), a built-in member that belongs to the proxy, or a value it leaves out.
 */

/** `toJSON` and the members of `Object.prototype`: a proxy's own, never the client's, unless included by name. */
export const BUILT_IN_NAMES: ReadonlySet<string> = new Set(['toJSON', ...Object.getOwnPropertyNames(Object.prototype)]);

/** `root.a.b` for path `['a', 'b']`; undefined where a step is missing. */
export function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const step of path) {
    if (value === undefined || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** Whether a client's property is a nested resource (openai's `chat`), as opposed to a value. */
export function isResource(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  if (value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp || value instanceof AbortSignal || value instanceof ArrayBuffer) return false;
  return typeof (value as { then?: unknown }).then !== 'function';
}
