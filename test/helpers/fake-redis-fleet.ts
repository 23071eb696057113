import type { RedisFleetStatsLike } from '../../src/prometheus/index.js';

/** Stats of a fleet on Redis with some history: every counter above 0. */
export const FLEET_STATS: RedisFleetStatsLike = { mode: 'redis', syncs: 40, failures: 3, fallbacks: 1, reports: 12, applied: 9, syncAgeMs: 120, lastLagMs: 35, mismatches: 2 };

/** A fleet of the shape the metrics read, with stats the test sets; counts how often they are read. */
export class FakeFleet {
  readonly key: string;
  current: RedisFleetStatsLike;
  reads = 0;

  constructor(key: string, stats: Partial<RedisFleetStatsLike> = {}) {
    this.key = key;
    this.current = { ...FLEET_STATS, ...stats };
  }

  get stats(): RedisFleetStatsLike {
    this.reads++;
    return this.current;
  }
}
