import type { Attributes, Meter, MeterProvider } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import { bucketBounds, DEFAULT_BUCKETS } from '../prometheus/buckets.js';
import { integerAtLeast, keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { ATTR_CLIENT, ATTR_ERROR_TYPE } from './attributes.js';
import { ATTR_ATTEMPT_KIND, ATTR_CIRCUIT_FROM, ATTR_CIRCUIT_TO, ATTR_METHOD, ATTR_OUTCOME, ATTR_RATE_LIMIT_SCOPE } from './metrics-names.js';

const OPTION_KEYS = keySet(['meter', 'meterProvider', 'maxMethods', 'buckets', 'waitBuckets', 'attributes']);

/** What the adapter calls on a meter: a value without all of them is no `Meter`. */
export const METER_METHODS: readonly string[] = Object.freeze([
  'createHistogram',
  'createCounter',
  'createObservableGauge',
  'createObservableUpDownCounter',
  'addBatchObservableCallback',
  'removeBatchObservableCallback',
]);

/** Attribute names the instruments set themselves: `attributes` may not override them. */
const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([ATTR_CLIENT, ATTR_METHOD, ATTR_ATTEMPT_KIND, ATTR_OUTCOME, ATTR_ERROR_TYPE, ATTR_CIRCUIT_FROM, ATTR_CIRCUIT_TO, ATTR_RATE_LIMIT_SCOPE]);

/** Options of {@link otelMetrics}. */
export interface OtelMetricsOptions {
  /**
   * The meter to make the instruments on. Give this or `meterProvider`, not both.
   * @default the meter `clientpool` of `meterProvider`
   */
  readonly meter?: Meter;
  /**
   * Where to get the meter when no `meter` is given. The global provider is read when the middleware is
   * made, and OpenTelemetry's metrics API, unlike its trace API, does not forward to an SDK registered
   * later: register the SDK first, or pass its provider here.
   * @default the global provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * How many distinct `clientpool.method` values are kept; calls with a method seen after the cap is
   * reached are recorded as `other`. An integer >= 0.
   * @default 100
   */
  readonly maxMethods?: number;
  /**
   * Bucket boundaries in seconds advised for `clientpool.call.duration` and `clientpool.attempt.duration`
   * (a View of the SDK may override them): finite, increasing.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] (the Prometheus adapter's)
   */
  readonly buckets?: readonly number[];
  /**
   * Bucket boundaries in seconds advised for `clientpool.rate_limit.wait`.
   * @default the same as `buckets`' default
   */
  readonly waitBuckets?: readonly number[];
  /**
   * Attributes added to every measurement, e.g. `{ 'clientpool.pool': 'rpc' }`: give each pool its own
   * when several pools report to one meter, so that their clients stay apart. May not use the names the
   * instruments set themselves (`clientpool.client`, `clientpool.method`, `error.type`, ...).
   * @default {}
   */
  readonly attributes?: Attributes;
}

/** The options checked, with their defaults. */
export interface ResolvedOtelMetricsOptions {
  readonly meter: Meter | undefined;
  readonly meterProvider: MeterProvider | undefined;
  readonly maxMethods: number;
  readonly buckets: readonly number[];
  readonly waitBuckets: readonly number[];
  readonly attributes: Readonly<Attributes>;
}

/**
 * Check every option once, at construction, naming the option and the bad value. Each option is read
 * once: a getter or Proxy trap that throws is an `InvalidOptionError` with the throw as its `cause`.
 */
export function resolveOtelMetricsOptions(options: OtelMetricsOptions): ResolvedOtelMetricsOptions {
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  const { meter, meterProvider, maxMethods = 100, buckets, waitBuckets, attributes = {} } = readOnce(options);
  if (meter !== undefined && meterProvider !== undefined) {
    throw new InvalidOptionError('meter', 'given without meterProvider (the meter already comes from a provider)', meter);
  }
  if (meter !== undefined) meterShape('meter', meter);
  if (meterProvider !== undefined) requireMethods('meterProvider', meterProvider, ['getMeter'], 'an OpenTelemetry MeterProvider');
  return {
    meter: meter as Meter | undefined,
    meterProvider: meterProvider as MeterProvider | undefined,
    maxMethods: integerAtLeast('maxMethods', maxMethods, 0),
    buckets: buckets === undefined ? DEFAULT_BUCKETS : guardedRead('buckets', buckets, () => bucketBounds('buckets', buckets)),
    waitBuckets: waitBuckets === undefined ? DEFAULT_BUCKETS : guardedRead('waitBuckets', waitBuckets, () => bucketBounds('waitBuckets', waitBuckets)),
    attributes: constantAttributes(attributes),
  };
}

/**
 * Throw unless `value` has every method of a `Meter` the adapter calls, naming `option` (`meter`, or
 * `meterProvider` for the meter its `getMeter()` returned).
 * @throws InvalidOptionError naming `option`, with what a getter threw as the `cause`.
 */
export function meterShape(option: string, value: unknown): Meter {
  requireMethods(option, value, METER_METHODS, 'an OpenTelemetry Meter');
  return value as Meter;
}

/** The options, each read once into a plain object; `undefined` ones stay absent so defaults apply. */
function readOnce(options: object): Readonly<Partial<Record<string, unknown>>> {
  const copy: Partial<Record<string, unknown>> = {};
  try {
    for (const key of OPTION_KEYS) {
      const value: unknown = (options as Record<string, unknown>)[key];
      if (value !== undefined) copy[key] = value;
    }
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  return copy;
}

/** Run a check that reads into `value`; a non-clientpool throw (a getter's, a Proxy trap's) becomes a typed error naming `option`. */
function guardedRead<T>(option: string, value: unknown, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
}

function requireMethods(option: string, value: unknown, methods: readonly string[], expected: string): void {
  let isShaped: boolean;
  try {
    isShaped = typeof value === 'object' && value !== null && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  } catch (error) {
    throw withCause(new InvalidOptionError(option, `${expected} whose methods can be read (a getter or Proxy trap threw)`, value), error);
  }
  if (!isShaped) throw new InvalidOptionError(option, expected, value);
}

/** `error` with `cause` attached, as `unreadableOptions` does (InvalidOptionError takes no cause in its constructor). */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  return error;
}

/** An attribute value as the API takes it: a string, number or boolean, or an array of one of them. */
function isAttributeValue(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((item) => item === null || item === undefined || isScalar(item));
  return isScalar(value);
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && !Number.isNaN(value));
}

/** The `attributes` option, read once; a getter or Proxy trap that throws is an `InvalidOptionError` naming it. */
function constantAttributes(value: unknown): Readonly<Attributes> {
  return guardedRead('attributes', value, () => checkedAttributes(value));
}

function checkedAttributes(value: unknown): Readonly<Attributes> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError('attributes', 'an object of attribute names to values', value);
  }
  const attributes: Attributes = {};
  for (const [name, attributeValue] of Object.entries(value)) {
    if (RESERVED_ATTRIBUTES.has(name)) throw new InvalidOptionError('attributes', `free of the names the instruments set (${[...RESERVED_ATTRIBUTES].join(', ')})`, name);
    if (!isAttributeValue(attributeValue)) throw new InvalidOptionError(`attributes.${name}`, 'a string, number or boolean, or an array of them', attributeValue);
    attributes[name] = attributeValue as Attributes[string];
  }
  return Object.freeze(attributes);
}
