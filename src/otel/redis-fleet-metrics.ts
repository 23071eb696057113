import { metrics, ValueType, type Attributes, type BatchObservableResult, type Meter, type MeterProvider, type Observable } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
// Types only: erased, so this entry never loads prom-client.
import type { RedisFleetLike, RedisFleetStatsLike } from '../prometheus/redis-fleet-metrics.js';
import { keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { METER_NAME } from './metrics-names.js';
import { withCause } from './metrics-options.js';

const OPTION_KEYS = keySet(['meter', 'meterProvider', 'attributes']);

/** Observable gauge, `{mode}`: 0 while the fleet shares through Redis, 1 on the local view (fallback). */
export const METRIC_FLEET_MODE = 'clientpool.fleet.mode';
/** Observable gauge, `s`: seconds since the last successful sync; none before the first. */
export const METRIC_FLEET_SYNC_AGE = 'clientpool.fleet.sync_age';
/** Observable gauge, `s`: for the last report of another process applied here, seconds from its report to its application; none before the first. */
export const METRIC_FLEET_LAG = 'clientpool.fleet.lag';
/** Observable counter, `{sync}`: syncs with Redis that succeeded. */
export const METRIC_FLEET_SYNCS = 'clientpool.fleet.syncs';
/** Observable counter, `{round_trip}`: round trips (syncs and reports) that failed or timed out. */
export const METRIC_FLEET_FAILURES = 'clientpool.fleet.failures';
/** Observable counter, `{fallback}`: switches to the local view. */
export const METRIC_FLEET_FALLBACKS = 'clientpool.fleet.fallbacks';
/** Observable counter, `{report}`: reports sent (openings, closings, pauses, health verdicts, probe-lease asks). */
export const METRIC_FLEET_REPORTS = 'clientpool.fleet.reports';
/** Observable counter, `{report}`: reports of other processes applied here. */
export const METRIC_FLEET_APPLIED = 'clientpool.fleet.applied';
/** Observable counter, `{sync}`: syncs that found another configuration on the key. */
export const METRIC_FLEET_MISMATCHES = 'clientpool.fleet.mismatches';
/** The fleet's Redis key. */
export const ATTR_FLEET_KEY = 'clientpool.fleet.key';

/** Options of the OpenTelemetry {@link redisFleetMetrics}. */
export interface RedisFleetOtelOptions {
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
   * `clientpool.fleet.key`.
   * @default {}
   */
  readonly attributes?: Attributes;
}

/** What the OpenTelemetry {@link redisFleetMetrics} returns. */
export interface RedisFleetOtelMetrics {
  /** The fleet's key: its `clientpool.fleet.key`. */
  readonly key: string;
  /** Stop observing the fleet (take the meter's callback back). Idempotent. */
  unregister(): void;
}

/** What the adapter calls on a meter. */
const METER_METHODS = ['createObservableGauge', 'createObservableCounter', 'addBatchObservableCallback', 'removeBatchObservableCallback'] as const;
const MODE_VALUE: Readonly<Record<string, number>> = { redis: 0, fallback: 1 };
const COUNTERS = ['syncs', 'failures', 'fallbacks', 'reports', 'applied', 'mismatches'] as const;

/**
 * OpenTelemetry metrics for a fleet sharing circuits, pauses and health through Redis (`RedisFleet` of
 * `clientpool/redis`, docs/fleet.md): the figures of the Prometheus `redisFleetMetrics`, as observable
 * instruments read from `fleet.stats` at collection only, with the attribute `clientpool.fleet.key`:
 * `clientpool.fleet.mode` (gauge, 0 Redis, 1 fallback), `clientpool.fleet.sync_age` and
 * `clientpool.fleet.lag` (gauges, seconds; none before the first sync, or the first report applied),
 * `.syncs`, `.failures`, `.fallbacks`, `.reports`, `.applied`, `.mismatches` (counters). A fleet serving
 * no pool (idle or closed) is not observed. `stats` is read once per collection for every instrument
 * (one batch callback), so a collection observes a fleet whole or not at all. A `stats` getter that
 * throws leaves the fleet out of that collection and is reported once as a `CLIENTPOOL_CALLBACK_ERROR`
 * warning. Several fleets may report to one meter.
 *
 * @throws InvalidOptionError for a fleet without a non-empty string `key` and `stats`, a bad or unknown
 *   option, or a meter (or provider) that cannot make the instruments; what was thrown is the `cause`.
 * @example
 * ```ts
 * import { redisFleetMetrics } from 'clientpool/otel';
 * const fleet = new RedisFleet({ redis, key: 'rpc-fleet' });
 * redisFleetMetrics(fleet, { meterProvider });
 * ```
 */
export function redisFleetMetrics(fleet: RedisFleetLike, options: RedisFleetOtelOptions = {}): RedisFleetOtelMetrics {
  const key = fleetKey(fleet);
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
  return new FleetObserver(fleet, key, meter, attributes);
}

class FleetObserver implements RedisFleetOtelMetrics {
  readonly key: string;
  readonly #fleet: RedisFleetLike;
  readonly #meter: Meter;
  readonly #guard = new CallbackGuard();
  readonly #instruments: Observable[];
  #isObserving = false;
  readonly #observe: (result: BatchObservableResult) => void;

  constructor(fleet: RedisFleetLike, key: string, meter: Meter, constant: Readonly<Attributes>) {
    this.#fleet = fleet;
    this.key = key;
    this.#meter = meter;
    const base = Object.freeze({ [ATTR_FLEET_KEY]: key, ...constant });
    const gauge = (name: string, description: string, unit: string, valueType: ValueType): Observable =>
      make(meter, name, () => meter.createObservableGauge(name, { description, unit, valueType }));
    const counter = (name: string, description: string, unit: string): Observable =>
      make(meter, name, () => meter.createObservableCounter(name, { description, unit, valueType: ValueType.INT }));
    const mode = gauge(METRIC_FLEET_MODE, 'Where a fleet gets its view of the upstreams: 0 shared through Redis, 1 its local view (fallback).', '{mode}', ValueType.INT);
    const syncAge = gauge(METRIC_FLEET_SYNC_AGE, "Seconds since the fleet's last successful sync with Redis.", 's', ValueType.DOUBLE);
    const lag = gauge(METRIC_FLEET_LAG, "Seconds from another process's report to its application here, for the last one applied.", 's', ValueType.DOUBLE);
    const counters = {
      syncs: counter(METRIC_FLEET_SYNCS, 'Syncs with Redis that succeeded.', '{sync}'),
      failures: counter(METRIC_FLEET_FAILURES, 'Round trips to Redis (syncs and reports) that failed or timed out.', '{round_trip}'),
      fallbacks: counter(METRIC_FLEET_FALLBACKS, "Switches from Redis to the process's local view.", '{fallback}'),
      reports: counter(METRIC_FLEET_REPORTS, 'Reports sent: openings, closings, pauses, health verdicts, probe-lease asks.', '{report}'),
      applied: counter(METRIC_FLEET_APPLIED, 'Reports of other processes applied here.', '{report}'),
      mismatches: counter(METRIC_FLEET_MISMATCHES, 'Syncs that found another configuration on the key.', '{sync}'),
    };
    this.#instruments = [mode, syncAge, lag, ...Object.values(counters)];
    this.#observe = (result) => {
      const stats = this.#stats();
      if (stats === undefined) return;
      result.observe(mode, MODE_VALUE[stats.mode]!, base);
      if (stats.syncAgeMs !== Number.POSITIVE_INFINITY) result.observe(syncAge, stats.syncAgeMs / 1_000, base);
      if (!Number.isNaN(stats.lastLagMs)) result.observe(lag, stats.lastLagMs / 1_000, base);
      for (const field of COUNTERS) result.observe(counters[field], stats[field], base);
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
      this.#guard.warn(`redisFleetMetrics: unregistering the observers of the Redis fleet ${JSON.stringify(this.key)}`, error);
    }
  }

  /** The fleet's stats, checked; undefined for a fleet serving no pool, or stats that cannot be read (reported once). */
  #stats(): RedisFleetStatsLike | undefined {
    try {
      return checkedFleetStats(this.#fleet.stats);
    } catch (error) {
      this.#guard.warn(`the stats of the Redis fleet ${JSON.stringify(this.key)} (redisFleetMetrics)`, error, 'The fleet was left out of the collection.');
      return undefined;
    }
  }
}

// The checks below are those of src/prometheus/redis-fleet-metrics.ts, kept here so that this entry
// does not load prom-client.

/** The fleet's key, checked. @throws InvalidOptionError naming `fleet`. */
function fleetKey(fleet: unknown): string {
  const expected = 'a RedisFleet, or an object with a non-empty string key and stats';
  if (typeof fleet !== 'object' || fleet === null) throw new InvalidOptionError('fleet', expected, fleet);
  let key: unknown;
  let hasStats: boolean;
  try {
    key = (fleet as { key?: unknown }).key;
    hasStats = 'stats' in fleet;
  } catch (error) {
    throw unreadableOptions('fleet', fleet, error);
  }
  if (typeof key !== 'string' || key === '' || !hasStats) throw new InvalidOptionError('fleet', expected, fleet);
  return key;
}

/** A plain copy of `stats`, or undefined for a fleet serving no pool; throws on a field a fleet's stats cannot hold. */
function checkedFleetStats(value: unknown): RedisFleetStatsLike | undefined {
  if (typeof value !== 'object' || value === null) throw new TypeError(`stats must be an object, got ${typeof value}`);
  const raw = value as Record<keyof RedisFleetStatsLike, unknown>;
  const mode = raw.mode;
  if (mode !== 'redis' && mode !== 'fallback' && mode !== 'idle' && mode !== 'closed') throw new TypeError(`stats.mode must be 'idle', 'redis', 'fallback' or 'closed', got ${String(mode)}`);
  const number = (field: Exclude<keyof RedisFleetStatsLike, 'mode'>, isValid: (n: number) => boolean, expected: string): number => {
    const read = raw[field];
    if (typeof read !== 'number' || !isValid(read)) throw new TypeError(`stats.${field} must be ${expected}, got ${String(read)}`);
    return read;
  };
  const count = (field: (typeof COUNTERS)[number]): number => number(field, (n) => n >= 0 && n !== Number.POSITIVE_INFINITY, 'a finite number >= 0');
  const stats: RedisFleetStatsLike = {
    mode,
    syncs: count('syncs'),
    failures: count('failures'),
    fallbacks: count('fallbacks'),
    reports: count('reports'),
    applied: count('applied'),
    mismatches: count('mismatches'),
    syncAgeMs: number('syncAgeMs', (n) => n >= 0, 'a number >= 0 (Infinity before the first sync)'),
    lastLagMs: number('lastLagMs', (n) => Number.isNaN(n) || (n >= 0 && n !== Number.POSITIVE_INFINITY), 'a finite number >= 0, or NaN before any report applied'),
  };
  return mode === 'redis' || mode === 'fallback' ? stats : undefined;
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

/** The `attributes` option, read once: string, number or boolean values, not `clientpool.fleet.key`. */
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
    if (name === ATTR_FLEET_KEY) throw new InvalidOptionError('attributes', `free of the name the instruments set (${ATTR_FLEET_KEY})`, name);
    if (typeof attribute !== 'string' && typeof attribute !== 'boolean' && !(typeof attribute === 'number' && Number.isFinite(attribute))) {
      throw new InvalidOptionError(`attributes.${name}`, 'a string, finite number or boolean', attribute);
    }
    attributes[name] = attribute;
  }
  return Object.freeze(attributes);
}
