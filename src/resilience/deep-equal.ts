/**
 * Whether two answers are the same value as JSON would see them, the default `compare` of quorum reads:
 *
 * - primitives by `Object.is`, except that `0` and `-0` are equal (JSON writes both as `0`); `NaN`
 *   equals `NaN`; a bigint equals a bigint of the same value (not the number of that value);
 * - arrays element by element (a hole is `undefined`), of the same length;
 * - plain objects (prototype `Object.prototype` or `null`) by their own enumerable string keys, in any
 *   order; a key whose value is `undefined` counts as absent, as in JSON;
 * - typed arrays and `DataView`s (bytes: `Uint8Array`, `Buffer`) by kind and content;
 * - objects with a `toJSON` method (`Date`, and most value classes) by what it returns;
 * - anything else (a `Map`, a `Set`, a class instance without `toJSON`, a function, a symbol) only to itself.
 *
 * Symbol keys and non-enumerable properties are ignored. Cycles are handled (a pair met again on the way
 * down is taken as equal), and a value nested deeper than {@link MAX_DEPTH} levels is not equal to
 * another object. What reading the values throws (a getter, a Proxy trap, a `toJSON`) is thrown.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const path: Path = [];
  path.proven = new Map();
  return equal(a, b, path, 0);
}

/** Nesting compared at most: deeper structures are not equal (no stack overflow on a hostile answer). */
export const MAX_DEPTH = 1_000;

/**
 * Pairs of objects being compared on the way down (a cycle met again is taken as equal), and pairs proven
 * equal already: an answer that reuses one object in many places (`o = { a: o1, b: o1 }`, nested) is
 * compared in time linear in its objects, not in its paths.
 */
type Path = [object, object][] & { proven?: Map<object, Set<object>> };

function equal(a: unknown, b: unknown, path: Path, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // NaN is the one primitive not equal to itself; bigints of one value are `===` already.
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (depth >= MAX_DEPTH) return false;
  if (path.proven?.get(a)?.has(b) === true) return true;
  for (const [x, y] of path) if (x === a && y === b) return true;
  path.push([a, b]);
  let isEqual: boolean;
  try {
    isEqual = equalObjects(a, b, path, depth + 1);
  } finally {
    path.pop();
  }
  if (isEqual) {
    const proven = path.proven;
    if (proven !== undefined) {
      let known = proven.get(a);
      if (known === undefined) proven.set(a, (known = new Set()));
      known.add(b);
    }
  }
  return isEqual;
}

function equalObjects(a: object, b: object, path: Path, depth: number): boolean {
  const isArray = Array.isArray(a);
  if (isArray !== Array.isArray(b)) return false;
  if (isArray) return equalArrays(a as unknown[], b as unknown[], path, depth);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && equalBytes(a, b);
  const toJsonA = (a as { toJSON?: unknown }).toJSON;
  const toJsonB = (b as { toJSON?: unknown }).toJSON;
  if (typeof toJsonA === 'function' || typeof toJsonB === 'function') {
    if (typeof toJsonA !== 'function' || typeof toJsonB !== 'function') return false;
    return equal(toJsonA.call(a) as unknown, toJsonB.call(b) as unknown, path, depth);
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  return equalRecords(a as Record<string, unknown>, b as Record<string, unknown>, path, depth);
}

function equalArrays(a: readonly unknown[], b: readonly unknown[], path: Path, depth: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i], path, depth)) return false;
  return true;
}

function equalRecords(a: Record<string, unknown>, b: Record<string, unknown>, path: Path, depth: number): boolean {
  let defined = 0;
  for (const key of Object.keys(a)) {
    const value = a[key];
    if (value === undefined) continue;
    defined++;
    if (!Object.prototype.hasOwnProperty.call(b, key) || !equal(value, b[key], path, depth)) return false;
  }
  // Same count of defined keys, all of a's found in b: the same key set.
  let definedInB = 0;
  for (const key of Object.keys(b)) if (b[key] !== undefined) definedInB++;
  return defined === definedInB;
}

function equalBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
