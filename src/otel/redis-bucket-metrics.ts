import { metrics, ValueType, type Attributes, type BatchObservableResult, type Meter, type MeterProvider, type Observable } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
import { bucketKey, checkedStats, type RedisBucketLike } from '../prometheus/redis-bucket-stats.js';
import { keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { METER_NAME } from './metrics-names.js';
import { withCause } from './metrics-options.js';

const OPTION_KEYS = keySet(['meter', 'meterProvider', 'attributes']);

/** Observable gauge, `{mode}`: 0 while the bucket takes tokens from Redis, 1 from its local insurance bucket. */
export const METRIC_REDIS_BUCKET_MODE = 'clientpool.redis_bucket.mode';
/** Observable counter, `{round_trip}`: script runs sent to Redis, probes included. */
export const METRIC_REDIS_BUCKET_ROUND_TRIPS = 'clientpool.redis_bucket.round_trips';
/** Observable counter, `{round_trip}`: round trips that failed or timed out. */
export const METRIC_REDIS_BUCKET_FAILURES = 'clientpool.redis_bucket.failures';
/** Observable counter, `{fallback}`: switches from Redis to the local insurance bucket. */
export const METRIC_REDIS_BUCKET_FALLBACKS = 'clientpool.redis_bucket.fallbacks';
/** Observable counter, `{token}`: tokens taken, by `clientpool.redis_bucket.source` (`redis` or `local`). */
export const METRIC_REDIS_BUCKET_TOKENS = 'clientpool.redis_bucket.tokens';
/** Observable counter, `{token}`: of the Redis tokens, those taken ahead of demand (lease). */
export const METRIC_REDIS_BUCKET_LEASED_TOKENS = 'clientpool.redis_bucket.leased_tokens';
/** Observable counter, `{token}`: leased tokens dropped unused when their lease expired. */
export const METRIC_REDIS_BUCKET_EXPIRED_TOKENS = 'clientpool.redis_bucket.expired_tokens';
/** Observable up-down counter, `{token}`: leased tokens in the local reserve now. */
export const METRIC_REDIS_BUCKET_RESERVE = 'clientpool.redis_bucket.reserve';
/** The bucket's Redis key. */
export const ATTR_REDIS_BUCKET_KEY = 'clientpool.redis_bucket.key';
/** Where tokens came from: `redis` or `local`. */
export const ATTR_REDIS_BUCKET_SOURCE = 'clientpool.redis_bucket.source';

/** Options of the OpenTelemetry {@link redisBucketMetrics}. */
export interface RedisBucketOtelOptions {
  /**
   * The meter to make the instruments on. Give this or `meterProvider`, not both.
   * @default the meter `clientpool` of `meterProvider`
   */
  readonly meter?: Meter;
  /**
   * Where to get the meter when no `meter` is given; read once, now (register the SDK first).
   * @default the global provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Attributes added to every observation, e.g. `{ 'clientpool.pool': 'rpc' }`. May not use
   * `clientpool.redis_bucket.key` or `clientpool.redis_bucket.source`.
   * @default {}
   */
  readonly attributes?: Attributes;
}

/** What the OpenTelemetry {@link redisBucketMetrics} returns. */
export interface RedisBucketOtelMetrics {
  /** The bucket's key: its `clientpool.redis_bucket.key`. */
  readonly key: string;
  /** Stop observing the bucket (take the meter's callback back). Idempotent. */
  unregister(): void;
}

/** What the adapter calls on a meter. */
const METER_METHODS = ['createObservableGauge', 'createObservableCounter', 'createObservableUpDownCounter', 'addBatchObservableCallback', 'removeBatchObservableCallback'] as const;
const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([ATTR_REDIS_BUCKET_KEY, ATTR_REDIS_BUCKET_SOURCE]);
const MODE_VALUE: Readonly<Record<string, number>> = { redis: 0, fallback: 1 };

/**
 * OpenTelemetry metrics for a Redis-shared token bucket (`RedisTokenBucket` of `clientpool/redis`): the
 * figures of the Prometheus `redisBucketMetrics`, as observable instruments read from `bucket.stats` at
 * collection only, with the attribute `clientpool.redis_bucket.key`:
 * `clientpool.redis_bucket.mode` (gauge, 0 Redis, 1 fallback), `clientpool.redis_bucket.round_trips`,
 * `.failures`, `.fallbacks`, `.tokens` (by `clientpool.redis_bucket.source` `redis`|`local`),
 * `.leased_tokens`, `.expired_tokens` (counters) and `.reserve` (up-down counter). A closed bucket is not
 * observed. `stats` is read once per collection for every instrument (one batch callback), so a
 * collection observes a bucket whole or not at all. A `stats` getter that throws leaves the bucket out
 * of that collection and is reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning. Several buckets may
 * report to one meter.
 *
 * @throws InvalidOptionError for a bucket without a non-empty string `key` and `stats`, a bad or unknown
 *   option, or a meter (or provider) that cannot make the instruments; what was thrown is the `cause`.
 * @example
 * ```ts
 * import { redisBucketMetrics } from 'clientpool/otel';
 * const limit = new RedisTokenBucket({ redis, key: 'provider-a', rate: 100 });
 * redisBucketMetrics(limit, { meterProvider });
 * ```
 */
export function redisBucketMetrics(bucket: RedisBucketLike, options: RedisBucketOtelOptions = {}): RedisBucketOtelMetrics {
  const key = bucketKey(bucket);
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  let meterOption: unknown;
  let providerOption: unknown;
  let attributesOption: unknown;
  try {
    ({ meter: meterOption, meterProvider: providerOption, attributes: attributesOption } = options);
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  if (meterOption !== undefined && providerOption !== undefined) {
    throw new InvalidOptionError('meter', 'given without meterProvider (the meter already comes from a provider)', meterOption);
  }
  const attributes = constantAttributes(attributesOption ?? {});
  const meter = meterOption === undefined ? providedMeter(providerOption) : meterShape('meter', meterOption);
  return new BucketObserver(bucket, key, meter, attributes);
}

class BucketObserver implements RedisBucketOtelMetrics {
  readonly key: string;
  readonly #bucket: RedisBucketLike;
  readonly #meter: Meter;
  readonly #guard = new CallbackGuard();
  readonly #instruments: Observable[];
  #isObserving = false;
  readonly #observe: (result: BatchObservableResult) => void;

  constructor(bucket: RedisBucketLike, key: string, meter: Meter, constant: Readonly<Attributes>) {
    this.#bucket = bucket;
    this.key = key;
    this.#meter = meter;
    const base = Object.freeze({ [ATTR_REDIS_BUCKET_KEY]: key, ...constant });
    const fromRedis = Object.freeze({ ...base, [ATTR_REDIS_BUCKET_SOURCE]: 'redis' });
    const fromLocal = Object.freeze({ ...base, [ATTR_REDIS_BUCKET_SOURCE]: 'local' });
    const counter = (name: string, description: string, unit: string): Observable =>
      make(meter, name, () => meter.createObservableCounter(name, { description, unit, valueType: ValueType.INT }));
    const mode = make(meter, METRIC_REDIS_BUCKET_MODE, () =>
      meter.createObservableGauge(METRIC_REDIS_BUCKET_MODE, { description: 'Where a Redis-shared token bucket takes tokens: 0 Redis, 1 its local insurance bucket (fallback).', unit: '{mode}', valueType: ValueType.INT }),
    );
    const roundTrips = counter(METRIC_REDIS_BUCKET_ROUND_TRIPS, 'Script runs sent to Redis, probes included.', '{round_trip}');
    const failures = counter(METRIC_REDIS_BUCKET_FAILURES, 'Round trips to Redis that failed or timed out.', '{round_trip}');
    const fallbacks = counter(METRIC_REDIS_BUCKET_FALLBACKS, 'Switches from Redis to the local insurance bucket.', '{fallback}');
    const tokens = counter(METRIC_REDIS_BUCKET_TOKENS, 'Tokens taken, by source: redis (leased ones included) or local (insurance bucket).', '{token}');
    const leased = counter(METRIC_REDIS_BUCKET_LEASED_TOKENS, 'Tokens taken from Redis ahead of demand (lease).', '{token}');
    const expired = counter(METRIC_REDIS_BUCKET_EXPIRED_TOKENS, 'Leased tokens dropped unused when their lease expired.', '{token}');
    const reserve = make(meter, METRIC_REDIS_BUCKET_RESERVE, () =>
      meter.createObservableUpDownCounter(METRIC_REDIS_BUCKET_RESERVE, { description: 'Leased tokens in the local reserve now.', unit: '{token}', valueType: ValueType.INT }),
    );
    this.#instruments = [mode, roundTrips, failures, fallbacks, tokens, leased, expired, reserve];
    this.#observe = (result) => {
      const stats = this.#stats();
      if (stats === undefined) return;
      result.observe(mode, MODE_VALUE[stats.mode]!, base);
      result.observe(roundTrips, stats.roundTrips, base);
      result.observe(failures, stats.failures, base);
      result.observe(fallbacks, stats.fallbacks, base);
      result.observe(tokens, stats.redisTokens, fromRedis);
      result.observe(tokens, stats.localTokens, fromLocal);
      result.observe(leased, stats.leasedTokens, base);
      result.observe(expired, stats.expiredTokens, base);
      result.observe(reserve, stats.reserve, base);
    };
    try {
      meter.addBatchObservableCallback(this.#observe, this.#instruments);
    } catch (error) {
      throw withCause(new InvalidOptionError('meter', 'a Meter that takes a batch observable callback (it threw)', meter), error);
    }
    this.#isObserving = true;
  }

  unregister(): void {
    if (!this.#isObserving) return;
    this.#isObserving = false;
    try {
      this.#meter.removeBatchObservableCallback(this.#observe, this.#instruments);
    } catch (error) {
      this.#guard.warn(`redisBucketMetrics: unregistering the observers of the Redis bucket ${JSON.stringify(this.key)}`, error);
    }
  }

  /** The bucket's stats, checked; undefined for a closed bucket or stats that cannot be read (reported once). */
  #stats(): ReturnType<typeof checkedStats> | undefined {
    try {
      const stats = checkedStats(this.#bucket.stats);
      return stats.mode === 'closed' ? undefined : stats;
    } catch (error) {
      this.#guard.warn(`the stats of the Redis bucket ${JSON.stringify(this.key)} (redisBucketMetrics)`, error, 'The bucket was left out of the collection.');
      return undefined;
    }
  }
}

/** One instrument; a meter whose factory throws or returns nothing fails the call at once, naming `meter`. */
function make(meter: Meter, name: string, create: () => Observable): Observable {
  let made: unknown;
  try {
    made = create();
  } catch (error) {
    throw withCause(new InvalidOptionError('meter', `a Meter that makes the instrument ${name} (it threw)`, meter), error);
  }
  if (typeof made !== 'object' || made === null) throw new InvalidOptionError('meter', `a Meter that makes the instrument ${name}`, made);
  return made as Observable;
}

/** The `clientpool` meter of `provider` (the global one when not given), checked. */
function providedMeter(provider: unknown): Meter {
  const option = provider === undefined ? 'meterProvider (the global one)' : 'meterProvider';
  let meter: unknown;
  try {
    const from = provider === undefined ? metrics.getMeterProvider() : (provider as MeterProvider);
    if (typeof from !== 'object' || from === null || typeof from.getMeter !== 'function') throw new InvalidOptionError(option, 'an OpenTelemetry MeterProvider', provider);
    meter = from.getMeter(METER_NAME);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw error;
    throw withCause(new InvalidOptionError(option, 'a MeterProvider whose getMeter() returns a Meter (it threw)', provider), error);
  }
  return meterShape(option, meter);
}

function meterShape(option: string, value: unknown): Meter {
  let isShaped: boolean;
  try {
    isShaped = typeof value === 'object' && value !== null && METER_METHODS.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  } catch (error) {
    throw withCause(new InvalidOptionError(option, 'an OpenTelemetry Meter whose methods can be read (a getter or Proxy trap threw)', value), error);
  }
  if (!isShaped) throw new InvalidOptionError(option, `an OpenTelemetry Meter (with ${METER_METHODS.join(', ')})`, value);
  return value as Meter;
}

/** The `attributes` option, read once: string, number or boolean values, none of the instruments' own names. */
function constantAttributes(value: unknown): Readonly<Attributes> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError('attributes', 'an object of attribute names to values', value);
  let entries: [string, unknown][];
  try {
    entries = Object.entries(value);
  } catch (error) {
    throw unreadableOptions('attributes', value, error);
  }
  const attributes: Attributes = {};
  for (const [name, attribute] of entries) {
    if (RESERVED_ATTRIBUTES.has(name)) throw new InvalidOptionError('attributes', `free of the names the instruments set (${[...RESERVED_ATTRIBUTES].join(', ')})`, name);
    if (typeof attribute !== 'string' && typeof attribute !== 'boolean' && !(typeof attribute === 'number' && Number.isFinite(attribute))) {
      throw new InvalidOptionError(`attributes.${name}`, 'a string, finite number or boolean', attribute);
    }
    attributes[name] = attribute;
  }
  return Object.freeze(attributes);
}
