import { ValueType, type Attributes, type Meter, type MeterProvider } from '@opentelemetry/api';
// redis-fleet-stats.ts and stats-source.ts load neither prom-client nor clientpool/redis: this entry must not load prom-client.
import { FLEET_COUNTERS, REDIS_FLEET, type RedisFleetLike, type RedisFleetStatsLike } from '../prometheus/redis-fleet-stats.js';
import { REDIS_MODE_VALUE } from '../prometheus/stats-source.js';
import { observeStats, type StatsObserverSpec } from './stats-observer.js';

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
  return observeStats(FLEET_OBSERVER, fleet, options);
}

const FLEET_OBSERVER: StatsObserverSpec<RedisFleetStatsLike, 'mode' | 'syncAge' | 'lag' | (typeof FLEET_COUNTERS)[number]> = {
  kind: REDIS_FLEET,
  keyAttribute: ATTR_FLEET_KEY,
  instruments: {
    mode: { kind: 'gauge', name: METRIC_FLEET_MODE, description: 'Where a fleet gets its view of the upstreams: 0 shared through Redis, 1 its local view (fallback).', unit: '{mode}' },
    syncAge: { kind: 'gauge', name: METRIC_FLEET_SYNC_AGE, description: "Seconds since the fleet's last successful sync with Redis.", unit: 's', valueType: ValueType.DOUBLE },
    lag: { kind: 'gauge', name: METRIC_FLEET_LAG, description: "Seconds from another process's report to its application here, for the last one applied.", unit: 's', valueType: ValueType.DOUBLE },
    syncs: { kind: 'counter', name: METRIC_FLEET_SYNCS, description: 'Syncs with Redis that succeeded.', unit: '{sync}' },
    failures: { kind: 'counter', name: METRIC_FLEET_FAILURES, description: 'Round trips to Redis (syncs and reports) that failed or timed out.', unit: '{round_trip}' },
    fallbacks: { kind: 'counter', name: METRIC_FLEET_FALLBACKS, description: "Switches from Redis to the process's local view.", unit: '{fallback}' },
    reports: { kind: 'counter', name: METRIC_FLEET_REPORTS, description: 'Reports sent: openings, closings, pauses, health verdicts, probe-lease asks.', unit: '{report}' },
    applied: { kind: 'counter', name: METRIC_FLEET_APPLIED, description: 'Reports of other processes applied here.', unit: '{report}' },
    mismatches: { kind: 'counter', name: METRIC_FLEET_MISMATCHES, description: 'Syncs that found another configuration on the key.', unit: '{sync}' },
  },
  observer(attributes) {
    const base = attributes();
    return (result, made, stats) => {
      result.observe(made.mode, REDIS_MODE_VALUE[stats.mode]!, base);
      // Nothing before the first sync, nor before the first report applied.
      if (stats.syncAgeMs !== Number.POSITIVE_INFINITY) result.observe(made.syncAge, stats.syncAgeMs / 1_000, base);
      if (!Number.isNaN(stats.lastLagMs)) result.observe(made.lag, stats.lastLagMs / 1_000, base);
      for (const field of FLEET_COUNTERS) result.observe(made[field], stats[field], base);
    };
  },
};
