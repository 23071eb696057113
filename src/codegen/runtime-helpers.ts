import type { LabelStyle } from '../label.js';

/**
 * Functions the generated file defines for itself when a method needs them, so that it imports
 * nothing at run time (only types from `clientpool`). Each is written once per file, after the classes.
 */
export type RuntimeHelper = 'combineSignals' | 'withSignal' | 'commandLabel' | 'defineMethods';

/** Every helper's name, which no import of the output may take. */
export const RUNTIME_HELPERS: readonly string[] = ['combineSignals', 'withSignal', 'callerSignal', 'commandLabel', 'defineMethods'];

/** The source of `helper`, as a module-level function. */
export function runtimeHelperSource(helper: RuntimeHelper, label: LabelStyle): string {
  if (helper === 'withSignal') return WITH_SIGNAL;
  if (helper === 'combineSignals') return COMBINE_SIGNALS;
  if (helper === 'defineMethods') return DEFINE_METHODS;
  const name =
    label === 'snake'
      ? "name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase()"
      : 'name';
  return [
    '/**',
    ' * The label of a call whose first argument is a command object: its class name',
    label === 'snake' ? ' * (`GetObjectCommand` -> `get_object_command`), after `prefix`; `fallback` for a plain object.' : ' * (`GetObjectCommand`), after `prefix`; `fallback` for a plain object.',
    ' */',
    'function commandLabel(command: unknown, prefix: string, fallback: string): string {',
    "  const name: unknown = typeof command === 'object' && command !== null ? (command as { constructor?: { name?: unknown } }).constructor?.name : undefined;",
    "  if (typeof name !== 'string' || name === '' || name === 'Object') return fallback;",
    `  return prefix + ${name};`,
    '}',
  ].join('\n');
}

const WITH_SIGNAL = `/**
 * \`args\` with the attempt's \`signal\` in the options object at \`index\`, so that a timeout or a lost hedge
 * cancels the request itself. It replaces a signal the caller gave, which cancels the whole call instead
 * (see \`callerSignal\`), so aborting it is a cancellation, not a failure of the client. The caller's object
 * is copied, never changed, and a class instance keeps its prototype. With \`create\`, a missing,
 * \`undefined\` or \`null\` options argument becomes \`{ signal }\` (as \`pool.proxy()\` does).
 */
function withSignal<A extends readonly unknown[]>(args: A, index: number, signal: AbortSignal, create: boolean): A {
  const options: unknown = args[index];
  if (options === undefined || options === null) {
    if (!create) return args;
    const padded: unknown[] = [...args];
    while (padded.length < index) padded.push(undefined);
    padded[index] = { signal };
    return padded as unknown as A;
  }
  if (typeof options !== 'object') return args;
  const copy: unknown[] = [...args];
  copy[index] = Object.assign(Object.create(Object.getPrototypeOf(options) as object | null) as object, options, { signal });
  return copy as unknown as A;
}

/** The \`signal\` the caller put in the options object at \`index\`, which then cancels the whole call. */
function callerSignal(args: readonly unknown[], index: number): AbortSignal | undefined {
  const options: unknown = args[index];
  const signal: unknown = typeof options === 'object' && options !== null ? (options as { signal?: unknown }).signal : undefined;
  return signal instanceof AbortSignal ? signal : undefined;
}`;

const COMBINE_SIGNALS = `/**
 * One signal that aborts, with the same reason, when one of \`signals\` does, and \`release\` to call when
 * the call settles: the listeners are removed then, so a long-lived signal (a shutdown signal given to
 * the wrapper) does not collect one per call. \`undefined\` when no signal is given.
 */
function combineSignals(signals: readonly (AbortSignal | undefined)[]): { signal: AbortSignal; release: () => void } | undefined {
  const given = [...new Set(signals.filter((signal) => signal !== undefined))];
  const [only] = given;
  if (only === undefined) return undefined;
  if (given.length === 1) return { signal: only, release: () => {} };
  const controller = new AbortController();
  const release = (): void => {
    for (const signal of given) signal.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    release();
    controller.abort(this.reason);
  }
  const aborted = given.find((signal) => signal.aborted);
  if (aborted !== undefined) controller.abort(aborted.reason);
  else for (const signal of given) signal.addEventListener('abort', onAbort);
  return { signal: controller.signal, release };
}`;

const DEFINE_METHODS = `/**
 * Put \`methods\` on \`prototype\` the way a class defines its methods (writable, configurable, not
 * enumerable): the implementations of the methods that the interface merged with the class types as
 * the client's own (\`readonly get: Client['get']\`), which keeps every overload and type parameter.
 */
function defineMethods<W extends object>(prototype: W, methods: Record<string, (this: W, ...args: unknown[]) => Promise<unknown>>): void {
  for (const [name, value] of Object.entries(methods)) Object.defineProperty(prototype, name, { value, writable: true, configurable: true });
}`;
