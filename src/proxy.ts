import type { Call, RunOptions } from './call.js';
import { CallbackError, InvalidOptionError } from './errors.js';
import { LABEL_STYLES, methodLabel, type LabelStyle } from './label.js';
import { keySet, knownKeys, optionsObject } from './validate.js';

const OPTION_KEYS = keySet(['label', 'include', 'exclude', 'methods', 'signal', 'run', 'callbacks']);
import { ExcludedMethodError } from './wrapping/excluded-method-error.js';
import { injectSignal } from './wrapping/inject-signal.js';
import { MethodFilter } from './wrapping/method-filter.js';
import type { Proxied, ProxiedMethodAt, ProxiedPaths, SignalParameter } from './wrapping/proxied.js';

export type { Proxied, ProxiedMethod, ProxiedMethodAt, ProxiedPaths, SignalParameter } from './wrapping/proxied.js';
export { ExcludedMethodError, type ExclusionReason } from './wrapping/excluded-method-error.js';

/** The names of `T`'s properties that are methods. */
export type MethodNames<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/** Options of a method call made through a proxy, per method (`timeout`, `strategy`, `retry`, `hedge`, `maxWait`, `key`). */
export type ProxyMethodOptions<T> = Omit<RunOptions<T>, 'method' | 'signal' | 'traceId'>;

/** Run options for every call made through one proxy: all of `pool.run()`'s but the label. */
export type ProxyRunOptions<T> = Omit<RunOptions<T>, 'method'>;

/**
 * Options of `pool.proxy()`. `Include` and `Exclude` are inferred from `include` and `exclude`, so the
 * proxy's type shows exactly the methods it runs.
 */
export interface ProxyOptions<T, Include extends string = never, Exclude extends string = never> {
  /**
   * How method paths become labels: `snake` (`getSlot` → `get_slot`, `fineTuning.jobs.create` →
   * `fine_tuning.jobs.create`, as the Go generator did), `as-is`, or your own function of the dotted path.
   * @default 'snake'
   */
  readonly label?: LabelStyle | ((method: string) => string);
  /**
   * Methods to proxy although a default exclusion leaves them out (`['quit']`, `['watch*']`): by name,
   * anywhere, by dotted path or by glob (`*` within a segment, `**` across, `?` one character). Excluded by
   * default: lifecycle (`close`, `quit`, `disconnect`...), `EventEmitter` and stream or connection-state
   * methods (`subscribe`, `multi`, `watch*`, `create*Filter`...): see `default-exclusions`. `toJSON` and the
   * members of `Object.prototype` (`toString`...) come back only when named without a wildcard.
   * @default []
   */
  readonly include?: readonly Include[];
  /** Methods or resources to leave out, by name (anywhere), dotted path or glob (`flush*`); wins over `include`. @default [] */
  readonly exclude?: readonly Exclude[];
  /**
   * Run options per method, by its dotted path: `{ getBlock: { timeout: 5_000 } }`. (The pool's own
   * `methods` option is keyed by label instead, `get_block`; both apply, the proxy's winning.)
   */
  readonly methods?: { readonly [P in ProxiedPaths<Proxied<T, Include, Exclude>>]?: ProxyMethodOptions<T> };
  /**
   * Where the attempt's `call.signal` goes, per method: the index of an options parameter that takes
   * `signal?: AbortSignal` (`{ request: 0 }` for undici, `{ 'chat.completions.create': 1 }` for openai).
   * The signal is added unless the caller gave one there, so a timeout or a lost hedge cancels the
   * request itself. Types are erased at run time, so the proxy cannot find these parameters by itself
   * (and must not guess: a `signal` field would end up in a Redis hash).
   * @default {} (no method gets the signal)
   */
  readonly signal?: { readonly [P in ProxiedPaths<Proxied<T, Include, Exclude>>]?: SignalParameter<ProxiedMethodAt<Proxied<T, Include, Exclude>, P>> };
  /**
   * Run options for every call through this proxy (`timeout`, `signal`, `key`, `strategy`, `retry`,
   * `hedge`, `maxWait`, `traceId`), winning over `methods`. A proxy is cheap to make, so per-call options
   * are `pool.proxy({ run: { key: userId, signal } }).get(userId)`.
   * @default {}
   */
  readonly run?: ProxyRunOptions<T>;
  /**
   * A call whose last argument is a function is refused (`ExcludedMethodError`, reason `callback`):
   * with a callback-style overload the pool counts the call a success while the callback gets the error.
   * `'allow'` passes such calls on, for methods that take a function for other reasons.
   * @default 'refuse'
   */
  readonly callbacks?: 'refuse' | 'allow';
}

/** What a proxy needs of its pool: a way to run a call, and a client to check property kinds on. */
export interface ProxyTarget<T> {
  run(fn: (client: T, call: Call<T>) => unknown, options: RunOptions<T>): Promise<unknown>;
  /** Any current client, to tell methods from resources and other properties; undefined when the pool is empty. */
  sample(): T | undefined;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/** What every node of one proxy shares. */
interface ProxyContext<T> {
  readonly target: ProxyTarget<T>;
  readonly label: (path: string) => string;
  readonly perMethod: Readonly<Record<string, ProxyMethodOptions<T> | undefined>>;
  readonly signalAt: Readonly<Record<string, number | undefined>>;
  readonly run: ProxyRunOptions<T> | undefined;
  readonly filter: MethodFilter;
  readonly allowCallbacks: boolean;
}

/**
 * Build the proxy object behind `pool.proxy()`. Method functions and nested resources are made once per
 * name and cached; the kind of a member (method, resource, neither) is read on a current client.
 * @throws InvalidOptionError for bad options.
 */
export function createProxy<T, Include extends string = never, Exclude extends string = never>(
  target: ProxyTarget<T>,
  options: ProxyOptions<T, Include, Exclude> = {},
): Proxied<T, Include, Exclude> {
  optionsObject('proxy options', options);
  knownKeys('proxy options', options, OPTION_KEYS);
  const perMethod: Readonly<Record<string, ProxyMethodOptions<T> | undefined>> = options.methods ?? {};
  optionsObject('proxy options.methods', perMethod);
  if (options.run !== undefined) optionsObject('proxy options.run', options.run);
  const callbacks = options.callbacks ?? 'refuse';
  if (callbacks !== 'refuse' && callbacks !== 'allow') throw new InvalidOptionError('proxy options.callbacks', '"refuse" or "allow"', callbacks);
  const context: ProxyContext<T> = {
    target,
    label: labeller(options.label ?? 'snake'),
    perMethod,
    signalAt: signalIndexes(options.signal),
    run: options.run,
    filter: new MethodFilter(options.include, options.exclude),
    allowCallbacks: callbacks === 'allow',
  };
  return resourceNode(context, []) as Proxied<T, Include, Exclude>;
}

/** A proxy level whose kind is known (the root, a resource): a read-only object of methods and resources. */
function resourceNode<T>(context: ProxyContext<T>, path: readonly string[]): object {
  const cache = new Map<string, unknown>();
  return new Proxy(Object.freeze({}), {
    get(target, property) {
      // Symbols (inspection, iteration) and `then` (so that the proxy is not mistaken for a promise) are not members.
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (isBuiltIn(context, path, property)) return builtIn(target, property);
      const cached = cache.get(property);
      if (cached !== undefined) return cached;
      const member = memberOf(context, path, property);
      // A member of unknown kind (empty pool) is looked at again next time.
      if (!deferredNodes.has(member as object)) cache.set(property, member);
      return member;
    },
    set: refuseAssignment(path),
  });
}

/** What a proxy's string conversion gives: `${proxy}`, `String(proxy)`. */
const PROXY_STRING = '[clientpool proxy]';

/** `toJSON` and the members of `Object.prototype`: a proxy's own, never the client's, unless included by name. */
const BUILT_IN_NAMES: ReadonlySet<string> = new Set(['toJSON', ...Object.getOwnPropertyNames(Object.prototype)]);

function isBuiltIn<T>(context: ProxyContext<T>, path: readonly string[], name: string): boolean {
  return BUILT_IN_NAMES.has(name) && !context.filter.includesLiterally(name, [...path, name].join('.'));
}

const proxyToString = (): string => PROXY_STRING;
const proxyToJSON = (): object => ({});

/**
 * A built-in member of a proxy node: `toString` gives '[clientpool proxy]', `toJSON` an empty object (so
 * `JSON.stringify(proxy)` is `{}`, also for a node made on an empty pool, which is a function), the
 * others are `Object.prototype`'s (`constructor` is `Object`).
 */
function builtIn(node: object, name: string): unknown {
  if (name === 'toString') return proxyToString;
  if (name === 'toJSON') return proxyToJSON;
  return Reflect.get(Object.prototype, name, node);
}

/** Nodes made while the pool was empty: never cached, so that a member's kind is read once there is a client. */
const deferredNodes = new WeakSet<object>();

/** Member `name` under `path`: a method function, a nested resource node, or a deferred node. */
function memberOf<T>(context: ProxyContext<T>, path: readonly string[], name: string): unknown {
  const memberPath = [...path, name];
  const dotted = memberPath.join('.');
  const sample = context.target.sample();
  if (sample === undefined) {
    // An empty pool: the member's kind is unknown until a call finds a client.
    const excluded = context.filter.reason(name, dotted, true);
    if (excluded !== undefined) throw new ExcludedMethodError(`proxy.${dotted}`, excluded);
    return deferredNode(context, memberPath);
  }
  const value = valueAt(sample, memberPath);
  const isMethod = typeof value === 'function';
  const excluded = context.filter.reason(name, dotted, isMethod);
  if (excluded !== undefined) throw new ExcludedMethodError(`proxy.${dotted}`, excluded);
  if (isMethod) return method(context, path, name);
  if (isResource(value)) return resourceNode(context, memberPath);
  throw new InvalidOptionError(`proxy.${dotted}`, 'a method of the client or a resource holding methods (only those are proxied)', value);
}

/** A member of unknown kind: callable as a method, and readable as a resource. */
function deferredNode<T>(context: ProxyContext<T>, path: readonly string[]): unknown {
  const parent = path.slice(0, -1);
  const name = path[path.length - 1]!;
  const node = new Proxy((...args: unknown[]): Promise<unknown> => method(context, parent, name)(...args), {
    get(fn, property) {
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (isBuiltIn(context, path, property)) return builtIn(fn, property);
      return memberOf(context, path, property);
    },
    set: refuseAssignment(path),
  });
  deferredNodes.add(node);
  return node;
}

/** The function that runs method `name` of the resource at `parent` through the pool. */
function method<T>(context: ProxyContext<T>, parent: readonly string[], name: string): Method {
  const dotted = parent.length === 0 ? name : `${parent.join('.')}.${name}`;
  const runOptions: RunOptions<T> = { ...context.perMethod[dotted], ...context.run, method: context.label(dotted) };
  const signalAt = context.signalAt[dotted];
  const { target, allowCallbacks } = context;
  const notAMethod = (fn: unknown): InvalidOptionError => new InvalidOptionError(`proxy.${dotted}`, 'a method of the client', fn);
  const refused = (args: unknown[]): boolean => !allowCallbacks && typeof args[args.length - 1] === 'function';
  if (parent.length === 0 && signalAt === undefined) {
    // The common case, kept to one closure per call: a top-level method, arguments as given.
    return (...args) => {
      if (refused(args)) return Promise.reject(new ExcludedMethodError(`proxy.${dotted}`, 'callback'));
      return target.run((client) => {
        const fn = (client as Record<string, unknown>)[name];
        if (typeof fn !== 'function') throw notAMethod(fn);
        return (fn as (...a: unknown[]) => unknown).apply(client, args);
      }, runOptions);
    };
  }
  return (...args) => {
    if (refused(args)) return Promise.reject(new ExcludedMethodError(`proxy.${dotted}`, 'callback'));
    return target.run((client, call) => {
      const owner = valueAt(client, parent);
      const fn: unknown = owner === undefined || owner === null ? undefined : (owner as Record<string, unknown>)[name];
      if (typeof fn !== 'function') throw notAMethod(fn);
      return (fn as (...a: unknown[]) => unknown).apply(owner, (signalAt === undefined ? args : injectSignal(args, signalAt, call.signal)) as unknown[]);
    }, runOptions);
  };
}

/** `root.a.b` for path `['a', 'b']`; undefined where a step is missing. */
function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const step of path) {
    if (value === undefined || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** Whether a client's property is a nested resource (openai's `chat`), as opposed to a value. */
function isResource(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  if (value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp || value instanceof AbortSignal || value instanceof ArrayBuffer) return false;
  return typeof (value as { then?: unknown }).then !== 'function';
}

function refuseAssignment(path: readonly string[]): (target: object, property: string | symbol) => boolean {
  return (_target, property) => {
    throw new InvalidOptionError(`proxy.${[...path, String(property)].join('.')}`, 'left alone (a proxy is read-only)', 'an assignment');
  };
}

function signalIndexes(option: unknown): Readonly<Record<string, number | undefined>> {
  if (option === undefined) return {};
  optionsObject('proxy options.signal', option);
  for (const [path, index] of Object.entries(option as object)) {
    if (!Number.isInteger(index) || (index as number) < 0) throw new InvalidOptionError(`proxy options.signal.${path}`, 'the index of an options parameter (an integer >= 0)', index);
  }
  return option as Readonly<Record<string, number>>;
}

function labeller(option: LabelStyle | ((method: string) => string)): (method: string) => string {
  if (typeof option === 'function') {
    return (method) => {
      let label: unknown;
      try {
        label = option(method);
      } catch (error) {
        throw new CallbackError('proxy options.label', `threw for ${method}`, error);
      }
      if (typeof label !== 'string' || label === '') throw new CallbackError('proxy options.label', `returned ${typeof label === 'string' ? 'an empty string' : typeof label} for ${method}, not a label`);
      return label;
    };
  }
  if (!LABEL_STYLES.includes(option)) throw new InvalidOptionError('label', `one of ${LABEL_STYLES.map((s) => `"${s}"`).join(', ')} or a function`, option);
  return (method) => methodLabel(method, option);
}
