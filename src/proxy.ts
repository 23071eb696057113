import type { RunOptions } from './call.js';
import { InvalidOptionError } from './errors.js';
import { LABEL_STYLES, methodLabel, type LabelStyle } from './label.js';
import { optionsObject } from './validate.js';

/** The names of `T`'s properties that are methods. */
export type MethodNames<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/**
 * `T` seen through the pool: every method keeps its parameters and returns a promise of its awaited
 * result; other properties are left out. (For an overloaded method, TypeScript keeps the last overload;
 * the code generator keeps them all.)
 */
export type Proxied<T> = {
  readonly [K in MethodNames<T>]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** Options of a method call made through a proxy. */
export type ProxyMethodOptions<T> = Omit<RunOptions<T>, 'method' | 'signal' | 'traceId'>;

/** Options of `pool.proxy()`. */
export interface ProxyOptions<T> {
  /**
   * How method names become labels: `snake` (`getSlot` → `get_slot`, as the Go generator did), `as-is`,
   * or your own function.
   * @default 'snake'
   */
  readonly label?: LabelStyle | ((method: string) => string);
  /**
   * Run options per method of the client, by its name: `{ getBlock: { timeout: 5_000 } }`. (The pool's
   * own `methods` option is keyed by label instead, `get_block`; both apply, the proxy's winning.)
   */
  readonly methods?: { readonly [K in MethodNames<T>]?: ProxyMethodOptions<T> };
}

/** What a proxy needs of its pool: a way to run a call, and a client to check property kinds on. */
export interface ProxyTarget<T> {
  run(fn: (client: T) => unknown, options: RunOptions<T>): Promise<unknown>;
  /** Any current client, to tell methods from other properties; undefined when the pool is empty. */
  sample(): T | undefined;
}

/** Build the proxy object behind `pool.proxy()`. Method functions are made once per name and cached. */
export function createProxy<T>(target: ProxyTarget<T>, options: ProxyOptions<T> = {}): Proxied<T> {
  optionsObject('proxy options', options);
  const label = labeller(options.label ?? 'snake');
  const perMethod: Readonly<Record<string, ProxyMethodOptions<T> | undefined>> = options.methods ?? {};
  optionsObject('proxy options.methods', perMethod);
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();

  const method = (name: string): ((...args: unknown[]) => Promise<unknown>) => {
    const runOptions: RunOptions<T> = { ...perMethod[name], method: label(name) };
    const notAMethod = (): InvalidOptionError => new InvalidOptionError(`proxy.${name}`, 'a method of the client', 'a non-function property');
    return (...args) =>
      target.run((client) => {
        const fn: unknown = (client as Record<string, unknown>)[name];
        if (typeof fn !== 'function') throw notAMethod();
        return (fn as (...a: unknown[]) => unknown).apply(client, args);
      }, runOptions);
  };

  return new Proxy(Object.freeze({}), {
    get(_target, property) {
      // Symbols (inspection, iteration) and `then` (so that the proxy is not mistaken for a promise) are not methods.
      if (typeof property !== 'string' || property === 'then') return undefined;
      let fn = cache.get(property);
      if (fn === undefined) {
        const sample = target.sample();
        if (sample !== undefined && typeof (sample as Record<string, unknown>)[property] !== 'function') {
          throw new InvalidOptionError(`proxy.${property}`, 'a method of the client (only methods are proxied)', (sample as Record<string, unknown>)[property]);
        }
        fn = method(property);
        cache.set(property, fn);
      }
      return fn;
    },
    set(_target, property) {
      throw new InvalidOptionError(`proxy.${String(property)}`, 'left alone (a proxy is read-only)', 'an assignment');
    },
  }) as Proxied<T>;
}

function labeller(option: LabelStyle | ((method: string) => string)): (method: string) => string {
  if (typeof option === 'function') return option;
  if (!LABEL_STYLES.includes(option)) throw new InvalidOptionError('label', `one of ${LABEL_STYLES.map((s) => `"${s}"`).join(', ')} or a function`, option);
  return (method) => methodLabel(method, option);
}
