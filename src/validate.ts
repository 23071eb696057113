import { InvalidOptionError, isClientPoolError, type ClientPoolError } from './errors.js';
import type { Clock } from './clock.js';

// Validation runs once at construction, never per call; each helper names the option in its error.

/** A finite number > 0. */
export function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, 'a finite number > 0', value);
  }
  return value;
}

/** A finite number >= 0. */
export function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, 'a finite number >= 0', value);
  }
  return value;
}

/** An integer >= `min`. */
export function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(option, `an integer >= ${min}`, value);
  }
  return value;
}

/** A number in [min, max]. */
export function between(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `a number from ${min} to ${max}`, value);
  }
  return value;
}

/** A function, typed as the caller expects it (the signature itself cannot be checked at run time). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function callable<F extends (...args: never[]) => unknown>(option: string, value: unknown): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, 'a function', value);
  return value as F;
}

/** A non-empty string. */
export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(option, 'a non-empty string', value);
  return value;
}

/**
 * `value`, or `fallback` when it was not given. Only `undefined` means not given: `null` is a value, which
 * the option's own check then refuses (as `timeout: null` is refused), never a silent default.
 */
export function givenOr<V>(value: V | undefined, fallback: V): V {
  return value === undefined ? fallback : value;
}

/** Throw unless `value` is an options object or undefined. */
export function optionsObject(option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'an options object', value);
  }
}

/** `AbortSignal.prototype.aborted`'s own getter: it throws for anything but a real signal (ERR_INVALID_THIS). */
const abortedGetter: ((this: unknown) => boolean) | undefined = Reflect.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * An `AbortSignal`, or undefined: a real one, not an object that only has its prototype
 * (`Object.create(AbortSignal.prototype)`), whose `aborted` and listeners would throw later, mid-call.
 */
export function abortSignal(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidOptionError(option, 'an AbortSignal', value);
  try {
    abortedGetter?.call(value);
  } catch (error) {
    const refusal = new InvalidOptionError(option, 'an AbortSignal made by AbortController or AbortSignal (this one only has its prototype)', value);
    Object.defineProperty(refusal, 'cause', { value: error, configurable: true, writable: true });
    throw refusal;
  }
  return value;
}

/** A finite number >= `min`. */
export function finiteAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(option, `a finite number >= ${min}`, value);
  }
  return value;
}

/** A `Clock` (an object with `now()`), or undefined. */
export function clockOption(option: string, value: unknown): Clock | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { now?: unknown }).now !== 'function') {
    throw new InvalidOptionError(option, 'a clock: an object with now()', value);
  }
  return value as Clock;
}

/**
 * The longest delay a Node timer honours: 2^31-1 ms (about 24.8 days). A longer one fires after 1 ms,
 * so every duration option is refused past it rather than silently shortened.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration in ms: a finite number > 0 and <= 2^31-1. */
export function positiveDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DURATION_MS) {
    throw new InvalidOptionError(option, `a duration in ms > 0 and <= ${MAX_DURATION_MS}`, value);
  }
  return value;
}

/** A duration in ms: a finite number >= 0 and <= 2^31-1. */
export function duration(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new InvalidOptionError(option, `a duration in ms >= 0 and <= ${MAX_DURATION_MS}`, value);
  }
  return value;
}

/** The known keys of an options object, for {@link knownKeys}: made once, frozen. */
export function keySet(keys: readonly string[]): ReadonlySet<string> {
  return Object.freeze(new Set(keys));
}

/**
 * Throw unless every key of the options object `value` is one of `keys`: a misspelt or misplaced option
 * (`timout: 5`, or `retry: { initial: 0 }` for `retry: { backoff: { initial: 0 } }`) is an error, not
 * silently ignored. Inherited enumerable keys count, as reading an option would find them. Cheap enough
 * for a call's options: no array is made. An object whose keys cannot be read (a Proxy whose trap
 * throws) is refused with the failure as the `cause`.
 * @throws InvalidOptionError naming the option and the known keys.
 */
export function knownKeys(option: string, value: object, keys: ReadonlySet<string>): void {
  let unknown: string | undefined;
  try {
    for (const key in value) {
      if (!keys.has(key)) {
        unknown = key;
        break;
      }
    }
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
  if (unknown === undefined) return;
  let bad: unknown;
  try {
    bad = (value as Record<string, unknown>)[unknown];
  } catch {
    bad = undefined;
  }
  throw new InvalidOptionError(`${option}.${unknown}`, `one of the known options (${[...keys].join(', ')}): misspelt or misplaced?`, bad);
}

/**
 * An options object that could not be read (a Proxy trap or a getter threw): an `InvalidOptionError` with
 * what was thrown as its `cause`. A clientpool error (a nested check's) is returned as it is.
 */
export function unreadableOptions(option: string, value: unknown, cause: unknown): ClientPoolError {
  if (isClientPoolError(cause)) return cause;
  const error = new InvalidOptionError(option, 'an options object whose keys and values can be read (a getter or Proxy trap threw)', value);
  Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  return error;
}
