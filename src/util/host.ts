/**
 * What the core uses of its host beyond the web platform: Node's built-in modules, `process.emitWarning`,
 * `setImmediate` and timers that can be `unref`ed. Node, Bun and Deno have all of them; a browser (or a bare
 * V8 context) has none, and each helper then does the nearest web-standard thing, or nothing. The core
 * imports no `node:` module at top level, so that it bundles for a browser (docs/runtimes.md).
 *
 * Globals are looked up when used, never captured at load: fake timers and `vi.spyOn(process, ...)`
 * replace them after this module has loaded.
 */

/** The parts of `process` the core uses, each possibly missing (a browser has no `process` at all). */
interface HostProcess {
  readonly emitWarning?: (warning: string, options: { code: string; detail?: string }) => void;
  readonly getBuiltinModule?: (id: string) => unknown;
}

/** Globals typed as possibly absent: `@types/node` declares them everywhere, a browser has none. */
interface HostGlobals {
  readonly process?: unknown;
  readonly setImmediate?: (callback: () => void) => unknown;
  readonly clearImmediate?: (handle: unknown) => void;
  readonly console?: { warn(message: string): void };
}

const host = globalThis as HostGlobals;

function hostProcess(): HostProcess | undefined {
  const value = host.process;
  return typeof value === 'object' && value !== null ? value : undefined;
}

/**
 * A built-in module by id (`'node:diagnostics_channel'`), through `process.getBuiltinModule` (Node >=
 * 20.16, Bun, Deno): synchronous, in the ESM and the CommonJS build alike, and invisible to a bundler.
 * Undefined where the host has no such module, or no `getBuiltinModule`.
 */
export function builtinModule(id: string): object | undefined {
  const process = hostProcess();
  if (typeof process?.getBuiltinModule !== 'function') return undefined;
  try {
    const module = process.getBuiltinModule(id);
    // `node:events` is a function (EventEmitter) carrying its helpers; the others are plain objects.
    return (typeof module === 'object' && module !== null) || typeof module === 'function' ? module : undefined;
  } catch {
    // A host that knows getBuiltinModule but refuses the id (a sandbox): as if it had none.
    return undefined;
  }
}

type SetMaxListeners = (n: number, ...targets: EventTarget[]) => void;
let setMaxListeners: SetMaxListeners | null | undefined;

/**
 * Lets any number of listeners wait on these targets (`AbortSignal`s) without Node's
 * `MaxListenersExceededWarning` (events.setMaxListeners(0, ...)). Where there is no `node:events` nothing
 * warns about listener counts, and this does nothing.
 */
export function allowManyListeners(...targets: EventTarget[]): void {
  if (setMaxListeners === undefined) {
    const fn = (builtinModule('node:events') as { readonly setMaxListeners?: unknown } | undefined)?.setMaxListeners;
    setMaxListeners = typeof fn === 'function' ? (fn as SetMaxListeners) : null;
  }
  setMaxListeners?.(0, ...targets);
}

/**
 * Reports a problem that must not throw (a listener or callback failed): `process.emitWarning(message,
 * { code, detail })` where there is one, else `console.warn`, else nothing.
 */
export function emitWarning(message: string, code: string, detail?: string): void {
  const process = hostProcess();
  if (typeof process?.emitWarning === 'function') {
    process.emitWarning(message, detail === undefined ? { code } : { code, detail });
    return;
  }
  host.console?.warn(`${message} (${code})${detail === undefined ? '' : ` ${detail}`}`);
}

/** A timer handle as `setTimeout`/`setInterval` return it: an object on Node, Bun and Deno, a number in a browser. */
type TimerHandle = { readonly unref?: () => unknown; readonly ref?: () => unknown } | number | undefined;

/** Lets the timer not keep the process alive (`timer.unref()`); nothing for a browser's numeric handle. */
export function unrefTimer(timer: TimerHandle): void {
  if (typeof timer === 'object') timer.unref?.();
}

/** Undoes {@link unrefTimer} (`timer.ref()`); nothing for a browser's numeric handle. */
export function refTimer(timer: TimerHandle): void {
  if (typeof timer === 'object') timer.ref?.();
}

declare const soonBrand: unique symbol;
/** What {@link runAfterIO} returns, for {@link cancelAfterIO}. */
export type AfterIOHandle = { readonly [soonBrand]: true };

/**
 * Runs `callback` once pending I/O has been read: in a `setImmediate` (after Node's poll phase), or a
 * `setTimeout(0)` where there is none (a browser, which reads its events between tasks anyway).
 */
export function runAfterIO(callback: () => void): AfterIOHandle {
  return (typeof host.setImmediate === 'function' ? host.setImmediate(callback) : setTimeout(callback, 0)) as AfterIOHandle;
}

/** Cancels a {@link runAfterIO} that has not run yet. */
export function cancelAfterIO(handle: AfterIOHandle): void {
  if (typeof host.clearImmediate === 'function') host.clearImmediate(handle);
  else clearTimeout(handle as unknown as number);
}
