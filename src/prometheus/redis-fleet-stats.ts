import { statsCount, statsMode, statsNumber, statsRecord, type StatsSourceKind } from './stats-source.js';

// What the metrics adapters read of a fleet, declared structurally: neither `clientpool/prometheus` nor
// `clientpool/otel` loads `clientpool/redis` (or prom-client, from here).

/**
 * The counters of a fleet, as `RedisFleet.stats` returns them (`clientpool/redis`): every field but
 * `mode`, `syncAgeMs` and `lastLagMs` only grows.
 */
export interface RedisFleetStatsLike {
  /** `'idle'` (serving no pool yet), `'redis'`, `'fallback'` (on the local view) or `'closed'`. */
  readonly mode: string;
  readonly syncs: number;
  readonly failures: number;
  readonly fallbacks: number;
  readonly reports: number;
  readonly applied: number;
  /** Milliseconds since the last successful sync; `Infinity` before any. */
  readonly syncAgeMs: number;
  /** Milliseconds from another process's report to its application here, for the last one applied; `NaN` before any. */
  readonly lastLagMs: number;
  readonly mismatches: number;
}

/** What the metrics read of a fleet: a `RedisFleet` fits, or anything of its shape. */
export interface RedisFleetLike {
  readonly key: string;
  /** Read at collection only. */
  readonly stats: RedisFleetStatsLike;
}

/** The counters the adapters export as they are, each a field of the stats. */
export const FLEET_COUNTERS = ['syncs', 'failures', 'fallbacks', 'reports', 'applied', 'mismatches'] as const;

/**
 * A fleet as the adapters read it: its stats checked (counts finite and >= 0, `syncAgeMs` >= 0 with
 * `Infinity` allowed: no sync yet, `lastLagMs` >= 0 and finite or `NaN`: none applied yet), a fleet that
 * serves no pool (idle or closed) having nothing to show.
 */
export const REDIS_FLEET: StatsSourceKind<RedisFleetStatsLike> = {
  option: 'fleet',
  noun: 'Redis fleet',
  caller: 'redisFleetMetrics',
  expected: 'a RedisFleet, or an object with a non-empty string key and stats',
  check(value) {
    const raw = statsRecord(value);
    const mode = statsMode(raw, ['idle', 'redis', 'fallback', 'closed']);
    const stats: RedisFleetStatsLike = {
      mode,
      syncs: statsCount(raw, 'syncs'),
      failures: statsCount(raw, 'failures'),
      fallbacks: statsCount(raw, 'fallbacks'),
      reports: statsCount(raw, 'reports'),
      applied: statsCount(raw, 'applied'),
      mismatches: statsCount(raw, 'mismatches'),
      syncAgeMs: statsNumber(raw, 'syncAgeMs', (n) => n >= 0, 'a number >= 0 (Infinity before the first sync)'),
      lastLagMs: statsNumber(raw, 'lastLagMs', (n) => Number.isNaN(n) || (n >= 0 && n !== Number.POSITIVE_INFINITY), 'a finite number >= 0, or NaN before any report applied'),
    };
    return mode === 'redis' || mode === 'fallback' ? stats : undefined;
  },
};
