import type { LabelStyle } from '../label.js';

/**
 * Functions the generated file defines for itself when a method needs them, so that it imports
 * nothing at run time (only types from `clientpool`). Each is written once per file, after the classes.
 */
export type RuntimeHelper = 'withSignal' | 'commandLabel' | 'defineMethods';

/** Every helper's name, which no import of the output may take. */
export const RUNTIME_HELPERS: readonly RuntimeHelper[] = ['withSignal', 'commandLabel', 'defineMethods'];

/** The source of `helper`, as a module-level function. */
export function runtimeHelperSource(helper: RuntimeHelper, label: LabelStyle): string {
  if (helper === 'withSignal') return WITH_SIGNAL;
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
 * cancels the request itself. A signal the caller gave wins; the caller's object is copied, never changed,
 * and a class instance keeps its prototype. With \`create\`, a missing, \`undefined\` or \`null\` options
 * argument becomes \`{ signal }\` (as \`pool.proxy()\` does).
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
  if ((options as { signal?: unknown }).signal !== undefined && (options as { signal?: unknown }).signal !== null) return args;
  const copy: unknown[] = [...args];
  copy[index] = Object.assign(Object.create(Object.getPrototypeOf(options) as object | null) as object, options, { signal });
  return copy as unknown as A;
}`;

const DEFINE_METHODS = `/**
 * Put \`methods\` on \`prototype\` the way a class defines its methods (writable, configurable, not
 * enumerable): the implementations of the methods that the interface merged with the class types as
 * the client's own (\`readonly get: Client['get']\`), which keeps every overload and type parameter.
 */
function defineMethods<W extends object>(prototype: W, methods: Record<string, (this: W, ...args: unknown[]) => Promise<unknown>>): void {
  for (const [name, value] of Object.entries(methods)) Object.defineProperty(prototype, name, { value, writable: true, configurable: true });
}`;
