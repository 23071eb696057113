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

/** How deep plain objects are looked into for a method (as `Proxied`'s type does), which also stops at a cycle. */
const MAX_DEPTH = 4;

/**
 * Whether a client's property is a nested resource (openai's `chat`), as opposed to a value. A class
 * instance is one; a plain object (prototype `Object.prototype` or null) is one only when it holds
 * methods or resources and no data: ioredis's `options` (`port: 6379`, a `retryStrategy` function) is
 * a value, `{ completions: new Completions() }` a resource.
 */
export function isResource(value: unknown, depth = MAX_DEPTH): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  if (value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp || value instanceof AbortSignal || value instanceof ArrayBuffer) return false;
  if (typeof (value as { then?: unknown }).then === 'function') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return (prototype !== Object.prototype && prototype !== null) || (depth > 0 && holdsOnlyMembers(value, depth - 1));
}

/** Whether a plain object's own values are all methods, resources or empty, at least one not empty (a getter that throws: a value). */
function holdsOnlyMembers(value: object, depth: number): boolean {
  let hasMember = false;
  for (const key of Object.keys(value)) {
    let member: unknown;
    try {
      member = (value as Record<string, unknown>)[key];
    } catch {
      return false;
    }
    if (member === undefined || member === null) continue;
    if (typeof member === 'function') hasMember = true;
    else if (typeof member !== 'object') return false;
    else if (isResource(member, depth)) hasMember = true;
    else return false;
  }
  return hasMember;
}
