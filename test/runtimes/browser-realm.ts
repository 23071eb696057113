import { createContext, runInContext, type Context } from 'node:vm';

/**
 * A fresh V8 context with only what a browser's window offers that the core may use: timers (returning
 * numbers, as a browser's do, so that a `timer.unref()` fails here as it would there), microtasks,
 * `AbortController`/`AbortSignal`/`EventTarget`, `performance`, `crypto`, `console`, text codecs and `URL`.
 * No `process`, `Buffer`, `setImmediate`, `require` or `global`: code that reaches for Node fails loudly.
 */
export interface BrowserRealm {
  readonly context: Context;
  /** What the code under test wrote with `console.warn` and `console.error`. */
  readonly warnings: string[];
  /** Evaluates a script (an IIFE bundle) in the realm and returns its completion value. */
  run(code: string): unknown;
  /** Clears every timer the realm still has set. */
  dispose(): void;
}

export function createBrowserRealm(): BrowserRealm {
  const warnings: string[] = [];
  // Numeric IDs over host timers: a browser's setTimeout returns a number with no ref/unref.
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  const setTimer = (repeat: boolean) => (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): number => {
    const id = nextId++;
    const run = (): void => {
      if (!repeat) timers.delete(id);
      callback(...args);
    };
    timers.set(id, repeat ? setInterval(run, ms) : setTimeout(run, ms));
    return id;
  };
  const clearTimer = (id: unknown): void => {
    if (typeof id !== 'number') return;
    const timer = timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    timers.delete(id);
  };
  const console = {
    log: (): void => {},
    info: (): void => {},
    debug: (): void => {},
    warn: (...args: unknown[]): void => void warnings.push(args.map(String).join(' ')),
    error: (...args: unknown[]): void => void warnings.push(args.map(String).join(' ')),
  };
  const context = createContext({
    setTimeout: setTimer(false),
    setInterval: setTimer(true),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    queueMicrotask,
    structuredClone,
    AbortController,
    AbortSignal,
    EventTarget,
    Event,
    DOMException,
    performance,
    crypto: globalThis.crypto,
    console,
    TextEncoder,
    TextDecoder,
    URL,
  });
  // A browser's global object is reachable as `window` and `self` as well as `globalThis`.
  runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', context);
  return {
    context,
    warnings,
    run: (code): unknown => runInContext(code, context) as unknown,
    dispose() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
