import { CallbackError } from '../errors.js';

/**
 * The label of one call to a command method (`send(command)`), from its command object and the
 * method's dotted path (`send`, `s3.send`). Called only when the first argument is an object.
 */
export type CommandLabel = (command: object, path: string) => string;

/** Labels remembered per command method; past this, a new class name is labelled on each call. */
const MAX_REMEMBERED = 1_000;

/**
 * The class name of a command object (`GetObjectCommand`), or undefined for a plain object, an object
 * whose constructor has no name, or one whose constructor cannot be read. A minifier renames classes, so
 * this name is only as stable as the build keeps it (`keepNames`).
 */
export function commandClassName(command: object): string | undefined {
  let name: unknown;
  try {
    name = (command as { readonly constructor?: { readonly name?: unknown } }).constructor?.name;
  } catch {
    return undefined;
  }
  if (typeof name !== 'string' || name === '' || name === 'Object') return undefined;
  // A built-in object (`send([])`, `send(new Map())`) is no command class: the method's own label.
  return BUILT_IN_CLASS_NAMES.has(name) && (globalThis as Record<string, unknown>)[name] === (command as { readonly constructor?: unknown }).constructor ? undefined : name;
}

/** Classes of the language and of Node whose instances are values, not commands. */
const BUILT_IN_CLASS_NAMES: ReadonlySet<string> = new Set(['Array', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Date', 'RegExp', 'Promise', 'Error', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer', 'URL', 'URLSearchParams', 'String', 'Number', 'Boolean']);

/**
 * How each call of the command method at `path` is labelled, from its first argument. By default the
 * command's class name takes the method's place in the path and goes through the label style
 * (`s3.send(new GetObjectCommand())` → `s3.get_object_command`, as `clientpool-codegen --command-methods`
 * labels); a first argument that is not an object, or a plain one, gets the method's own label
 * (`fallback`). With `custom`, its result is the label, as it is.
 * @throws CallbackError when `custom` throws or returns anything but a non-empty string.
 */
export function commandLabeller(path: readonly string[], fallback: string, label: (path: string) => string, custom: CommandLabel | undefined): (command: unknown) => string {
  const dotted = path.join('.');
  if (custom !== undefined) {
    return (command) => {
      if (typeof command !== 'object' || command === null) return fallback;
      let result: unknown;
      try {
        result = custom(command, dotted);
      } catch (error) {
        throw new CallbackError('proxy options.commandLabel', `threw for ${dotted}`, error);
      }
      if (typeof result !== 'string' || result === '') {
        throw new CallbackError('proxy options.commandLabel', `returned ${typeof result === 'string' ? 'an empty string' : typeof result} for ${dotted}, not a label`);
      }
      return result;
    };
  }
  const parent = path.slice(0, -1);
  const labels = new Map<string, string>();
  return (command) => {
    const name = typeof command === 'object' && command !== null ? commandClassName(command) : undefined;
    if (name === undefined) return fallback;
    let known = labels.get(name);
    if (known === undefined) {
      known = label([...parent, name].join('.'));
      if (labels.size < MAX_REMEMBERED) labels.set(name, known);
    }
    return known;
  };
}
