import type { Call, RunOptions } from './call.js';
import { InvalidOptionError } from './errors.js';
import { commandLabeller } from './wrapping/command-label.js';
import { ExcludedMethodError } from './wrapping/excluded-method-error.js';
import { eitherSignal } from './wrapping/either-signal.js';
import { callerSignal, injectSignal } from './wrapping/inject-signal.js';
import { BUILT_IN_NAMES, isResource, valueAt } from './wrapping/member-kind.js';
import { MissingMethodError } from './wrapping/missing-method-error.js';
import { checkPathsOn } from './wrapping/option-paths.js';
import type { Proxied } from './wrapping/proxied.js';
import { readProxyOptions, type ProxyOptions, type ProxySettings } from './wrapping/proxy-options.js';
import { abortSignal } from './validate.js';

export type { Proxied, ProxiedMethod, ProxiedMethodAt, ProxiedPaths, SignalParameter } from './wrapping/proxied.js';
export type { ProxyMethodOptions, ProxyOptions, ProxyRunOptions } from './wrapping/proxy-options.js';
export type { CommandLabel } from './wrapping/command-label.js';
export { ExcludedMethodError, type ExclusionReason } from './wrapping/excluded-method-error.js';
export { MissingMethodError } from './wrapping/missing-method-error.js';

/** The names of `T`'s properties that are methods. */
export type MethodNames<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/** What a proxy needs of its pool: a way to run a call, and clients to check property kinds on. */
export interface ProxyTarget<T> {
  run(fn: (client: T, call: Call<T>) => unknown, options: RunOptions<T>): Promise<unknown>;
  /** Any current client, to tell methods from resources and other properties; undefined when the pool is empty. */
  sample(): T | undefined;
  /**
   * Every current client, first `sample()`'s: a member that the first client lacks is looked for on
   * the others (a pool of clients of different kinds). Without it, `sample()` alone decides.
   */
  clients?(): Iterable<T>;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/** What every node of one proxy shares: its settings, and the option paths still to check on a client. */
interface ProxyContext<T> extends ProxySettings<T> {
  readonly target: ProxyTarget<T>;
  /** Whether the keys of `methods` and `signal` still wait for a client to be checked on (the pool was empty). */
  isUnchecked: boolean;
}

/**
 * Build the proxy object behind `pool.proxy()`. Method functions and nested resources are made once per
 * name and cached; the kind of a member (method, resource, neither) is read on a current client.
 * Options are checked here; that the client has a method at each key of `methods` and `signal` is
 * checked on a client of the pool, here or, if the pool is empty, at the first call that finds one.
 * @throws InvalidOptionError for bad options.
 */
export function createProxy<T, Include extends string = never, Exclude extends string = never>(
  target: ProxyTarget<T>,
  options: ProxyOptions<T, Include, Exclude> = {},
): Proxied<T, Include, Exclude> {
  const context: ProxyContext<T> = { ...readProxyOptions<T>(options), target, isUnchecked: true };
  checkOptionPaths(context);
  return resourceNode(context, []) as Proxied<T, Include, Exclude>;
}

/** Check the option paths on a client of the pool, once there is one. @throws InvalidOptionError */
function checkOptionPaths<T>(context: ProxyContext<T>): void {
  if (context.paths.length === 0) {
    context.isUnchecked = false;
    return;
  }
  const clients = clientsOf(context.target);
  if (clients === undefined) return;
  checkPathsOn(clients, context.paths);
  context.isUnchecked = false;
}

/** The clients to read members on, or undefined when the pool has none. */
function clientsOf<T>(target: ProxyTarget<T>): Iterable<T> | undefined {
  const sample = target.sample();
  if (sample === undefined) return undefined;
  return target.clients?.() ?? [sample];
}

/** The value at `path` on the first client that has one (not undefined there). */
function memberValue<T>(clients: Iterable<T>, path: readonly string[]): unknown {
  for (const client of clients) {
    const value = valueAt(client, path);
    if (value !== undefined) return value;
  }
  return undefined;
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
  const clients = clientsOf(context.target);
  if (clients === undefined) {
    // An empty pool: the member's kind is unknown until a call finds a client.
    const excluded = context.filter.reason(name, dotted, true);
    if (excluded !== undefined) throw new ExcludedMethodError(`proxy.${dotted}`, excluded);
    return deferredNode(context, memberPath);
  }
  const value = memberValue(clients, memberPath);
  const isMethod = typeof value === 'function';
  const excluded = context.filter.reason(name, dotted, isMethod);
  if (excluded !== undefined) throw new ExcludedMethodError(`proxy.${dotted}`, excluded);
  if (isMethod) return hasMembers(value) ? methodNode(context, memberPath, false) : method(context, path, name);
  if (isResource(value)) return resourceNode(context, memberPath);
  throw new InvalidOptionError(`proxy.${dotted}`, 'a method of the client or a resource holding methods (only those are proxied)', value);
}

/** Whether a method is also a resource: a function with methods of its own (got's instances, tRPC clients). */
function hasMembers(fn: unknown): boolean {
  try {
    return Object.keys(fn as object).some((key) => {
      const member: unknown = (fn as Record<string, unknown>)[key];
      return typeof member === 'function' || isResource(member);
    });
  } catch {
    return false;
  }
}

/** A member of unknown kind (an empty pool): callable as a method, and readable as a resource. */
function deferredNode<T>(context: ProxyContext<T>, path: readonly string[]): unknown {
  return methodNode(context, path, true);
}

/**
 * A member callable as a method and readable as a resource: a callable resource, or, when `isDeferred`,
 * one of unknown kind, which is not cached so that its kind is read again once there is a client.
 */
function methodNode<T>(context: ProxyContext<T>, path: readonly string[], isDeferred: boolean): unknown {
  const parent = path.slice(0, -1);
  const name = path[path.length - 1]!;
  const cache = new Map<string, unknown>();
  const call = isDeferred ? (...args: unknown[]): Promise<unknown> => method(context, parent, name)(...args) : method(context, parent, name);
  const node = new Proxy(call, {
    get(fn, property) {
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (isBuiltIn(context, path, property)) return builtIn(fn, property);
      if (isDeferred) return memberOf(context, path, property);
      const cached = cache.get(property);
      if (cached !== undefined) return cached;
      const member = memberOf(context, path, property);
      if (!deferredNodes.has(member as object)) cache.set(property, member);
      return member;
    },
    set: refuseAssignment(path),
  });
  if (isDeferred) deferredNodes.add(node);
  return node;
}

/** The function that runs method `name` of the resource at `parent` through the pool. */
function method<T>(context: ProxyContext<T>, parent: readonly string[], name: string): Method {
  const dotted = parent.length === 0 ? name : `${parent.join('.')}.${name}`;
  let label: string;
  try {
    label = context.label(dotted);
  } catch (error) {
    // A `label` function that throws rejects each call, as `commandLabel` does, never the property read.
    const failure = error as Error;
    return () => Promise.reject(failure);
  }
  const runOptions: RunOptions<T> = { ...context.perMethod.get(dotted), ...context.run, method: label };
  const signalAt = context.signalAt.get(dotted);
  const commandLabel = context.isCommandMethod(name, dotted) ? commandLabeller([...parent, name], label, context.label, context.commandLabel) : undefined;
  const { target, allowCallbacks } = context;
  const where = `proxy.${dotted}`;
  /** Why the call cannot start, checked before any client is used; undefined when it can. */
  const refusal = (args: unknown[]): Error | undefined => {
    if (!allowCallbacks && typeof args[args.length - 1] === 'function') return new ExcludedMethodError(where, 'callback');
    if (context.isUnchecked) {
      try {
        checkOptionPaths(context);
      } catch (error) {
        return error as Error;
      }
    }
    return undefined;
  };
  if (parent.length === 0 && signalAt === undefined && commandLabel === undefined) {
    // The common case, kept to one closure per call: a top-level method, arguments as given.
    return (...args) => {
      const refused = refusal(args);
      if (refused !== undefined) return Promise.reject(refused);
      return target.run((client, call) => {
        const fn = (client as Record<string, unknown>)[name];
        if (typeof fn !== 'function') throw new MissingMethodError(where, call.clientName);
        return (fn as (...a: unknown[]) => unknown).apply(client, args);
      }, runOptions);
    };
  }
  /** The call's run options: its own label when it is a command's; a CallbackError when `commandLabel` fails. */
  const optionsFor = (args: unknown[]): RunOptions<T> | Error => {
    if (commandLabel === undefined) return runOptions;
    try {
      return { ...runOptions, method: commandLabel(args[0]) };
    } catch (error) {
      return error as Error;
    }
  };
  return (...args) => {
    const refused = refusal(args);
    if (refused !== undefined) return Promise.reject(refused);
    let options = optionsFor(args);
    if (options instanceof Error) return Promise.reject(options);
    // A caller's own signal in the options object becomes the run's too (its abort is a cancellation,
    // not a failure of the client), and the client gets `call.signal`, which follows it as well as the
    // timeout, a lost hedge and the run's own signal.
    let given: AbortSignal | undefined;
    try {
      // A signal that only has AbortSignal's prototype is refused here, before it is combined with another.
      given = signalAt === undefined ? undefined : abortSignal('signal', callerSignal(args[signalAt]));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an InvalidOptionError
      return Promise.reject(error);
    }
    let release: (() => void) | undefined;
    if (given !== undefined) {
      const runSignal = options.signal;
      if (runSignal === undefined || runSignal === given) {
        options = { ...options, signal: given };
      } else {
        const { signal, release: releaseEither } = eitherSignal(given, runSignal);
        options = { ...options, signal };
        release = releaseEither;
      }
    }
    const result = target.run((client, call) => {
      const owner = valueAt(client, parent);
      const fn: unknown = owner === undefined || owner === null ? undefined : (owner as Record<string, unknown>)[name];
      if (typeof fn !== 'function') throw new MissingMethodError(where, call.clientName);
      return (fn as (...a: unknown[]) => unknown).apply(owner, (signalAt === undefined ? args : injectSignal(args, signalAt, call.signal, given !== undefined)) as unknown[]);
    }, options);
    if (release !== undefined) void result.then(release, release);
    return result;
  };
}

function refuseAssignment(path: readonly string[]): (target: object, property: string | symbol) => boolean {
  return (_target, property) => {
    throw new InvalidOptionError(`proxy.${[...path, String(property)].join('.')}`, 'left alone (a proxy is read-only)', 'an assignment');
  };
}
