import { REDIS_MODE_VALUE } from './stats-source.js';
import { FLEET_COUNTERS, REDIS_FLEET, type RedisFleetLike, type RedisFleetStatsLike } from './redis-fleet-stats.js';
import type { ScalarEmit } from './family.js';
import type { AnyRegistry } from './shared-families.js';
import { exportStats, type StatsExportSpec, type StatsFamily } from './stats-export.js';

export type { RedisFleetLike, RedisFleetStatsLike } from './redis-fleet-stats.js';

/** Options of {@link redisFleetMetrics}: those of `prometheusMetrics` that apply. */
export interface RedisFleetMetricsOptions {
  /**
   * The prom-client registry to register on; never prom-client's global `register` unasked.
   * @default a new `Registry`, exposed as `metrics.registry`
   */
  readonly registry?: AnyRegistry;
  /**
   * First part of every metric name: `<prefix>_fleet_mode`. Use the prefix of the pool's
   * `prometheusMetrics` so that both sit together.
   * @default 'middleware'
   */
  readonly prefix?: string;
  /**
   * Constant labels added to every series, after `key`, e.g. `{ pool: 'rpc' }`. Every fleet exported
   * with one prefix on one registry must use the same label names.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@link redisFleetMetrics} returns. */
export interface RedisFleetMetrics {
  /** The registry the metrics are on: the one passed in, or a new one. */
  readonly registry: AnyRegistry;
  /** The fleet's key: the `key` label of its series. */
  readonly key: string;
  /** Stop exporting this fleet; a family no other fleet feeds leaves the registry. Idempotent. */
  unregister(): void;
}

/**
 * Prometheus metrics for a fleet sharing circuits, pauses and health through Redis (`RedisFleet` of
 * `clientpool/redis`, docs/fleet.md), read from `fleet.stats` at scrape time only, so a call costs
 * nothing more. Per fleet, by its `key`:
 *
 * - `<prefix>_fleet_mode` (gauge): 0 while sharing through Redis, 1 on the local view (fallback: Redis
 *   failed or timed out, or refused a mismatched configuration). A fleet serving no pool (idle, or closed
 *   with its pool) has no series.
 * - `<prefix>_fleet_sync_age_seconds` (gauge): seconds since the last successful sync; it grows while
 *   the fleet is on the local view. No series before the first sync.
 * - `<prefix>_fleet_lag_seconds` (gauge): for the last report of another process applied here, seconds
 *   from its report to its application (on the Redis server's clock). No series before the first.
 * - `<prefix>_fleet_syncs_total`, `<prefix>_fleet_failures_total` (counters): syncs that succeeded, and
 *   round trips (syncs and reports) that failed or timed out.
 * - `<prefix>_fleet_fallbacks_total` (counter): switches to the local view.
 * - `<prefix>_fleet_reports_total`, `<prefix>_fleet_applied_total` (counters): reports sent (openings,
 *   closings, pauses, health verdicts, probe-lease asks), and reports of other processes applied here.
 * - `<prefix>_fleet_mismatches_total` (counter): syncs that found another configuration on the key.
 *
 * Fleets exported with one prefix on one registry share the families (and coexist with the pool's
 * `prometheusMetrics` and `redisBucketMetrics`, whose names differ); two fleets with the same key add up
 * (mode, sync age and lag: the larger). `stats` is read once per scrape, whatever the number of
 * families, so a scrape shows each fleet whole or not at all. A `stats` getter that throws (or returns
 * something else) leaves that fleet out of the scrape and is reported once as a
 * `CLIENTPOOL_CALLBACK_ERROR` warning: the scrape still succeeds.
 *
 * @throws InvalidOptionError for a fleet without a non-empty string `key` and a `stats` property, a fleet
 *   already exported on this registry with this prefix, or a bad option (as `prometheusMetrics`'s).
 * @example
 * ```ts
 * const fleet = new RedisFleet({ redis, key: 'rpc-fleet' });
 * redisFleetMetrics(fleet, { registry });
 * const pool = new ClientPool({ fleet, middleware: [prometheusMetrics({ registry })] });
 * ```
 */
export function redisFleetMetrics(fleet: RedisFleetLike, options: RedisFleetMetricsOptions = {}): RedisFleetMetrics {
  return exportStats(FLEET_EXPORT, fleet, options);
}

type Family = 'mode' | 'syncAge' | 'lag' | (typeof FLEET_COUNTERS)[number];

const counter = (name: string, help: string): StatsFamily => ({ type: 'counter', name: `fleet_${name}_total`, help, merge: 'sum' });

const FLEET_EXPORT: StatsExportSpec<RedisFleetStatsLike, Family> = {
  kind: REDIS_FLEET,
  brand: Symbol.for('clientpool.prometheus.redisFleets'),
  families: {
    mode: { type: 'gauge', name: 'fleet_mode', help: 'Where a fleet gets its view of the upstreams: 0 shared through Redis, 1 its local view (fallback).', merge: 'max' },
    syncAge: { type: 'gauge', name: 'fleet_sync_age_seconds', help: "Seconds since the fleet's last successful sync with Redis.", merge: 'max' },
    lag: { type: 'gauge', name: 'fleet_lag_seconds', help: "Seconds from another process's report to its application here, for the last one applied.", merge: 'max' },
    syncs: counter('syncs', 'Syncs with Redis that succeeded.'),
    failures: counter('failures', 'Round trips of the fleet to Redis (syncs and reports) that failed or timed out.'),
    fallbacks: counter('fallbacks', "Switches of the fleet from Redis to the process's local view."),
    reports: counter('reports', 'Reports the fleet sent: openings, closings, pauses, health verdicts, probe-lease asks.'),
    applied: counter('applied', 'Reports of other processes applied here.'),
    mismatches: counter('mismatches', 'Syncs that found another configuration on the fleet key.'),
  },
  collectors(labels) {
    const base = labels();
    const count = (field: (typeof FLEET_COUNTERS)[number]) => (emit: ScalarEmit, stats: RedisFleetStatsLike): void => emit(base, stats[field]);
    return {
      mode: (emit, stats) => emit(base, REDIS_MODE_VALUE[stats.mode]!),
      // No series before the first sync, nor before the first report applied.
      syncAge: (emit, stats) => {
        if (stats.syncAgeMs !== Number.POSITIVE_INFINITY) emit(base, stats.syncAgeMs / 1_000);
      },
      lag: (emit, stats) => {
        if (!Number.isNaN(stats.lastLagMs)) emit(base, stats.lastLagMs / 1_000);
      },
      syncs: count('syncs'),
      failures: count('failures'),
      fallbacks: count('fallbacks'),
      reports: count('reports'),
      applied: count('applied'),
      mismatches: count('mismatches'),
    };
  },
};
