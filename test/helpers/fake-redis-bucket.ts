import type { RedisBucketStatsLike } from '../../src/prometheus/index.js';

/** Stats of a bucket on Redis with some history: every counter above 0. */
export const STATS: RedisBucketStatsLike = { mode: 'redis', roundTrips: 7, failures: 2, fallbacks: 1, redisTokens: 20, leasedTokens: 8, expiredTokens: 3, localTokens: 5, reserve: 4 };

/** A bucket of the shape the metrics read, with stats the test sets; counts how often they are read. */
export class FakeBucket {
  readonly key: string;
  current: RedisBucketStatsLike;
  reads = 0;

  constructor(key: string, stats: Partial<RedisBucketStatsLike> = {}) {
    this.key = key;
    this.current = { ...STATS, ...stats };
  }

  get stats(): RedisBucketStatsLike {
    this.reads++;
    return this.current;
  }
}
