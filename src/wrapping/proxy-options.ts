import { validateStrategy } from '../balancers/strategies.js';
import type { RunOptions } from '../call.js';
import { CallbackError, InvalidOptionError } from '../errors.js';
import { LABEL_STYLES, methodLabel, type LabelStyle } from '../label.js';
import { hedgePolicy } from '../resilience/hedge-policy.js';
import { retryPolicy } from '../resilience/retry-policy.js';
import { costOption } from '../limit/cost.js';
import { priorityOption } from '../limit/priority.js';
import { abortSignal, callable, givenOr, duration, keySet, knownKeys, nonEmptyString, optionsObject, positiveDuration, unreadableOptions } from '../validate.js';
import type { CommandLabel } from './command-label.js';
import { globRegExp } from './glob.js';
import { MethodFilter } from './method-filter.js';
import { optionPath, type OptionPath } from './option-paths.js';
import type { Proxied, ProxiedMethodAt, ProxiedPaths, SignalParameter } from './proxied.js';

/** Options of a method call made through a proxy, per method (`timeout`, `deadline`, `strategy`, `retry`, `hedge`, `maxWait`, `key`, `cost`, `priority`). */
export type ProxyMethodOptions<T> = Pick<RunOptions<T>, 'timeout' | 'deadline' | 'strategy' | 'retry' | 'hedge' | 'maxWait' | 'key' | 'cost' | 'priority'>;

/** Run options for every call made through one proxy: the per-method ones, and `signal` and `traceId`. */
export type ProxyRunOptions<T> = ProxyMethodOptions<T> & Pick<RunOptions<T>, 'signal' | 'traceId'>;

/**
 * Options of `pool.proxy()`, read once when the proxy is made (changing the objects afterwards changes
 * nothing). `Include` and `Exclude` are inferred from `include` and `exclude`, so the proxy's type shows
 * exactly the methods it runs.
 */
export interface ProxyOptions<T, Include extends string = never, Exclude extends string = never> {
  /**
   * How method paths become labels: `snake` (`getSlot` → `get_slot`, `fineTuning.jobs.create` →
   * `fine_tuning.jobs.create`, as the Go generator did), `as-is`, or your own function of the dotted path
   * (a throw or a result that is not a non-empty string is a `CallbackError`).
   * @default 'snake'
   */
  readonly label?: LabelStyle | ((method: string) => string);
  /**
   * Methods to proxy although a default exclusion leaves them out (`['quit']`, `['watch*']`): by name,
   * anywhere, by dotted path or by glob (`*` within a segment, `**` across, `?` one character). Excluded by
   * default: lifecycle (`close`, `quit`, `disconnect`...), `EventEmitter`, stream or connection-state
   * methods (`subscribe`, `multi`, `select`, blocking `blpop`, `*Stream`, `watch*`, `create*Filter`...) and
   * handler-style `dispatch`: see `default-exclusions`. `toJSON` and the members of `Object.prototype`
   * (`toString`...) come back only when named without a wildcard; `then` is refused (`InvalidOptionError`).
   * A list typed `string[]` leaves the proxy's type as without it.
   * @default []
   */
  readonly include?: readonly Include[];
  /** Methods or resources to leave out, by name (anywhere), dotted path or glob (`flush*`); wins over `include`. @default [] */
  readonly exclude?: readonly Exclude[];
  /**
   * Run options per method, by its dotted path: `{ getBlock: { timeout: 5_000 } }`. (The pool's own
   * `methods` option is keyed by label instead, `get_block`; both apply, the proxy's winning.) The
   * options and the paths' shape are checked at `pool.proxy()`; that the client has a method at each
   * path, on a client of the pool: at `pool.proxy()`, or at the first call if the pool was empty then.
   * @default {}
   */
  readonly methods?: { readonly [P in ProxiedPaths<Proxied<T, Include, Exclude>>]?: ProxyMethodOptions<T> };
  /**
   * Where the attempt's `call.signal` goes, per method: the index (0 to 255) of an options parameter that
   * takes `signal?: AbortSignal` (`{ request: 0 }` for undici, `{ 'chat.completions.create': 1 }` for
   * openai). The signal is added unless the caller gave one there, so a timeout or a lost hedge cancels
   * the request itself. Types are erased at run time, so the proxy cannot find these parameters by
   * itself (and must not guess: a `signal` field would end up in a Redis hash). Paths are checked as
   * `methods`' are.
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
  /**
   * Methods that carry many operations as a command object (the AWS SDK's `client.send(command)`), by
   * name (anywhere), dotted path or glob: each call is labelled by its first argument, as
   * `clientpool-codegen --command-methods` does. `[]` for none.
   * @default ['send']
   */
  readonly commandMethods?: readonly string[];
  /**
   * The label of a call to a command method whose first argument is an object, given that object and
   * the method's dotted path; used as it is. By default, the command's class name in the label style,
   * in the method's place (`s3.send(new GetObjectCommand())` → `s3.get_object_command`), and the method's
   * own label for a plain object. A minifier renames classes: in a minified bundle, keep class names
   * (esbuild `keepNames`, terser `keep_classnames`) or label from something the build keeps. A throw or a
   * result that is not a non-empty string rejects the call with `CallbackError`.
   * @default the command's class name
   */
  readonly commandLabel?: CommandLabel;
}

/** What a proxy reads of its options, checked and copied once. */
export interface ProxySettings<T> {
  readonly label: (path: string) => string;
  readonly perMethod: ReadonlyMap<string, ProxyMethodOptions<T>>;
  readonly signalAt: ReadonlyMap<string, number>;
  readonly run: ProxyRunOptions<T> | undefined;
  readonly filter: MethodFilter;
  readonly allowCallbacks: boolean;
  /** Whether the method `name` at dotted `path` is labelled per command. */
  readonly isCommandMethod: (name: string, path: string) => boolean;
  readonly commandLabel: CommandLabel | undefined;
  /** The keys of `methods` and `signal`, for the check that needs a client. */
  readonly paths: readonly OptionPath[];
}

const OPTION_KEYS = keySet(['label', 'include', 'exclude', 'methods', 'signal', 'run', 'callbacks', 'commandMethods', 'commandLabel']);
const METHOD_KEYS = keySet(['timeout', 'deadline', 'strategy', 'retry', 'hedge', 'key', 'maxWait', 'cost', 'priority']);
const RUN_KEYS = keySet([...METHOD_KEYS, 'signal', 'traceId']);

/** The highest `signal` index: a real parameter list is far shorter, and a larger index would pad the arguments with that many `undefined`s. */
export const MAX_SIGNAL_INDEX = 255;

/**
 * Check and copy the options of `pool.proxy()`: everything that can be checked without a client.
 * @throws InvalidOptionError naming the option and the bad value.
 */
export function readProxyOptions<T>(options: unknown): ProxySettings<T> {
  if (options === undefined) options = {};
  optionsObject('proxy options', options);
  knownKeys('proxy options', options as object, OPTION_KEYS);
  const given = readOnce(options as Record<string, unknown>) as ProxyOptions<T>;
  const callbacks = givenOr(given.callbacks, 'refuse');
  if (callbacks !== 'refuse' && callbacks !== 'allow') throw new InvalidOptionError('proxy options.callbacks', '"refuse" or "allow"', callbacks);
  const filter = new MethodFilter(given.include, given.exclude);
  const paths: OptionPath[] = [];
  const perMethod = new Map<string, ProxyMethodOptions<T>>();
  for (const [path, value] of entries('proxy options.methods', given.methods)) {
    const option = `proxy options.methods.${path}`;
    perMethod.set(path, runOptions(option, value, METHOD_KEYS) ?? {});
    paths.push(optionPath(option, path, filter));
  }
  const signalAt = new Map<string, number>();
  for (const [path, index] of entries('proxy options.signal', given.signal)) {
    const option = `proxy options.signal.${path}`;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > MAX_SIGNAL_INDEX) {
      throw new InvalidOptionError(option, `the index of an options parameter (an integer from 0 to ${MAX_SIGNAL_INDEX})`, index);
    }
    signalAt.set(path, index);
    paths.push(optionPath(option, path, filter));
  }
  const commandLabel = given.commandLabel === undefined ? undefined : callable<CommandLabel>('proxy options.commandLabel', given.commandLabel);
  if (given.label === null) throw new InvalidOptionError('proxy options.label', `one of ${LABEL_STYLES.map((style) => `"${style}"`).join(', ')} or a function`, null);
  return {
    label: labeller(given.label ?? 'snake'),
    perMethod,
    signalAt,
    run: runOptions('proxy options.run', given.run, RUN_KEYS),
    filter,
    allowCallbacks: callbacks === 'allow',
    isCommandMethod: commandMatcher(given.commandMethods),
    commandLabel,
    paths,
  };
}

/**
 * The top-level options, each read once into a plain object, so that a throwing getter or Proxy trap is
 * an `InvalidOptionError` (with what it threw as the `cause`) and a getter is not read twice.
 */
function readOnce(options: Record<string, unknown>): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = {};
  try {
    for (const key of OPTION_KEYS) copy[key] = options[key];
  } catch (error) {
    throw unreadableOptions('proxy options', options, error);
  }
  return copy;
}

/** The entries of a map-like option (`methods`, `signal`), read once; inherited enumerable keys count, as a lookup would find them. */
function entries(option: string, value: unknown): readonly (readonly [string, unknown])[] {
  if (value === undefined) return [];
  optionsObject(option, value);
  const found: [string, unknown][] = [];
  try {
    for (const key in value as object) found.push([key, (value as Record<string, unknown>)[key]]);
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
  return found;
}

/**
 * Run options checked as `pool.run()` would check them, once, and copied without the keys set to
 * `undefined` (which would otherwise override the method's options with nothing).
 */
function runOptions(option: string, value: unknown, keys: ReadonlySet<string>): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  optionsObject(option, value);
  knownKeys(option, value as object, keys);
  const copy: Record<string, unknown> = {};
  try {
    for (const key in value as object) {
      const given: unknown = (value as Record<string, unknown>)[key];
      if (given === undefined) continue;
      checkRunOption(`${option}.${key}`, key, given);
      copy[key] = given;
    }
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
  return Object.freeze(copy);
}

function checkRunOption(option: string, key: string, value: unknown): void {
  switch (key) {
    case 'timeout':
    case 'deadline':
      positiveDuration(option, value);
      return;
    case 'cost':
      costOption(option, value);
      return;
    case 'priority':
      priorityOption(option, value);
      return;
    case 'maxWait':
      duration(option, value);
      return;
    case 'strategy':
      validateStrategy(option, value);
      return;
    case 'retry':
      if (value !== false) retryPolicy(value as never, option);
      return;
    case 'hedge':
      if (value !== false) hedgePolicy(value as never, option);
      return;
    case 'key':
      if (typeof value !== 'string') throw new InvalidOptionError(option, 'a string', value);
      return;
    case 'signal':
      abortSignal(option, value);
      return;
    case 'traceId':
      nonEmptyString(option, value);
      return;
  }
}

function commandMatcher(option: unknown): (name: string, path: string) => boolean {
  if (option === undefined) return (name) => name === 'send';
  if (!Array.isArray(option)) throw new InvalidOptionError('proxy options.commandMethods', 'an array of method names, dotted paths or globs', option);
  const patterns = (option as unknown[]).map((pattern, index) => globRegExp(nonEmptyString(`proxy options.commandMethods[${index}]`, pattern)));
  return (name, path) => patterns.some((pattern) => pattern.test(name) || pattern.test(path));
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
  if (!LABEL_STYLES.includes(option)) throw new InvalidOptionError('proxy options.label', `one of ${LABEL_STYLES.map((s) => `"${s}"`).join(', ')} or a function`, option);
  return (method) => methodLabel(method, option);
}
