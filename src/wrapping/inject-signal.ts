/**
 * `args` with the attempt's `signal` in the options object at `index`, unless the caller gave a signal
 * there (with `replace`, in its place: the attempt's signal then follows the caller's): a missing or nullish argument becomes `{ signal }` (earlier missing ones stay `undefined`), an
 * object without a signal is copied with it (the caller's object is never changed). Anything else is
 * left as it is.
 */
export function injectSignal(args: readonly unknown[], index: number, signal: AbortSignal, replace = false): readonly unknown[] {
  const given = args[index];
  if (given === undefined || given === null) {
    const copy = [...args];
    while (copy.length < index) copy.push(undefined);
    copy[index] = { signal };
    return copy;
  }
  if (typeof given !== 'object') return args;
  const current = (given as { readonly signal?: unknown }).signal;
  if (current !== undefined && current !== null && !replace) return args;
  const copy = [...args];
  // A class instance keeps its prototype (and so its methods); a plain object stays plain.
  copy[index] = Object.assign(Object.create(Object.getPrototypeOf(given) as object | null) as object, given, { signal });
  return copy;
}

/**
 * The caller's own `AbortSignal` in the options object `given` (the argument at a `signal` index), or
 * undefined when there is none (or a getter there throws: the call then goes on as without one).
 */
export function callerSignal(given: unknown): AbortSignal | undefined {
  if (typeof given !== 'object' || given === null) return undefined;
  try {
    const signal = (given as { readonly signal?: unknown }).signal;
    return signal instanceof AbortSignal ? signal : undefined;
  } catch {
    return undefined;
  }
}
