import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { prometheusMetrics, redisBucketMetrics, type RedisBucketStatsLike } from '../../src/prometheus/index.js';
import { RedisTokenBucket } from '../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { find, value, type Scrape } from './exposition.js';
import { exportedByKeyCases, scraped } from './keyed-stats-cases.js';
import { FakeBucket, STATS } from '../helpers/fake-redis-bucket.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every family `redisBucketMetrics` exports. */
const FAMILIES = ['mode', 'round_trips_total', 'failures_total', 'fallbacks_total', 'tokens_total', 'leased_tokens_total', 'expired_tokens_total', 'reserve_tokens'].map((name) => `middleware_redis_bucket_${name}`);

/** The families that have a series of bucket `key` in a scrape. */
const familiesOf = (scrape: Scrape, key: string): string[] => FAMILIES.filter((name) => find(scrape, name, { key }).length > 0);

describe('redisBucketMetrics (Prometheus), on a bucket of the right shape', () => {
  it('exports every stat under the default prefix, by key, with the types and values of the stats', async () => {
    const registry = new Registry();
    redisBucketMetrics(new FakeBucket('provider-a'), { registry });
    const scrape = await scraped(registry);
    const key = { key: 'provider-a' };
    expect(value(scrape, 'middleware_redis_bucket_mode', key)).toBe(0);
    expect(value(scrape, 'middleware_redis_bucket_round_trips_total', key)).toBe(7);
    expect(value(scrape, 'middleware_redis_bucket_failures_total', key)).toBe(2);
    expect(value(scrape, 'middleware_redis_bucket_fallbacks_total', key)).toBe(1);
    expect(value(scrape, 'middleware_redis_bucket_tokens_total', { ...key, source: 'redis' })).toBe(20);
    expect(value(scrape, 'middleware_redis_bucket_tokens_total', { ...key, source: 'local' })).toBe(5);
    expect(value(scrape, 'middleware_redis_bucket_leased_tokens_total', key)).toBe(8);
    expect(value(scrape, 'middleware_redis_bucket_expired_tokens_total', key)).toBe(3);
    expect(value(scrape, 'middleware_redis_bucket_reserve_tokens', key)).toBe(4);
    expect(Object.fromEntries(scrape.types)).toEqual({
      middleware_redis_bucket_mode: 'gauge',
      middleware_redis_bucket_round_trips_total: 'counter',
      middleware_redis_bucket_failures_total: 'counter',
      middleware_redis_bucket_fallbacks_total: 'counter',
      middleware_redis_bucket_tokens_total: 'counter',
      middleware_redis_bucket_leased_tokens_total: 'counter',
      middleware_redis_bucket_expired_tokens_total: 'counter',
      middleware_redis_bucket_reserve_tokens: 'gauge',
    });
  });

  exportedByKeyCases<RedisBucketStatsLike>({
    option: 'bucket',
    metrics: redisBucketMetrics,
    fake: (key, stats) => new FakeBucket(key, stats),
    stats: STATS,
    families: FAMILIES,
    counter: { field: 'roundTrips', family: 'redis_bucket_round_trips_total' },
    mode: 'middleware_redis_bucket_mode',
    malformed: [['a NaN count', { ...STATS, reserve: Number.NaN }]],
    refused: [['a constant label named source', { key: 'k', stats: STATS }, { labels: { source: 'x' } }, 'labels']],
  });

  it('reads mode 1 in fallback, and drops every series of a closed bucket', async () => {
    const registry = new Registry();
    const bucket = new FakeBucket('k', { mode: 'fallback' });
    redisBucketMetrics(bucket, { registry });
    expect(value(await scraped(registry), 'middleware_redis_bucket_mode', { key: 'k' })).toBe(1);
    bucket.current = { ...bucket.current, mode: 'closed' };
    expect((await scraped(registry)).samples).toEqual([]);
  });

  it('adds up two buckets with one key, and keeps the worse mode', async () => {
    const registry = new Registry();
    redisBucketMetrics(new FakeBucket('k'), { registry });
    redisBucketMetrics(new FakeBucket('k', { mode: 'fallback' }), { registry });
    const scrape = await scraped(registry);
    expect(value(scrape, 'middleware_redis_bucket_mode', { key: 'k' })).toBe(1);
    expect(value(scrape, 'middleware_redis_bucket_round_trips_total', { key: 'k' })).toBe(14);
  });

  it("sits beside the pool's prometheusMetrics on one registry, both without constant labels", async () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    redisBucketMetrics(new FakeBucket('k'), { registry });
    const scrape = await scraped(registry);
    expect(value(scrape, 'middleware_redis_bucket_mode', { key: 'k' })).toBe(0);
    expect(scrape.types.get('middleware_calls_total')).toBe('counter');
  });

  it('refuses constant label names other than those of the buckets already on the registry', () => {
    const registry = new Registry();
    redisBucketMetrics(new FakeBucket('a'), { registry, labels: { pool: 'p' } });
    expect(() => redisBucketMetrics(new FakeBucket('b'), { registry, labels: { region: 'eu' } })).toThrow(expect.objectContaining({ option: 'labels' }) as Error);
  });

  it("sits beside the pool's prometheusMetrics on one registry, with its prefix and constant labels after key", async () => {
    const registry = new Registry();
    prometheusMetrics({ registry, prefix: 'rpc', labels: { pool: 'p' } });
    redisBucketMetrics(new FakeBucket('k'), { registry, prefix: 'rpc', labels: { pool: 'p' } });
    const text = await registry.metrics();
    expect(text).toContain('rpc_redis_bucket_tokens_total{key="k",source="local",pool="p"} 5');
    expect(text).toContain('# TYPE rpc_calls_total counter');
  });
});

describe('redisBucketMetrics (Prometheus): one read of the stats per scrape, a bucket whole or absent', () => {
  it('reads a bucket whose stats always throw once per scrape, not once per family', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    let reads = 0;
    redisBucketMetrics({
      key: 'broken',
      get stats(): RedisBucketStatsLike {
        reads++;
        throw new Error('stats unavailable');
      },
    }, { registry });
    await registry.metrics();
    expect(reads).toBe(1);
    await registry.metrics();
    expect(reads).toBe(2);
  });

  it('shows a bucket closed during a scrape as it was when the scrape began, and leaves it out of the next', async () => {
    const registry = new Registry();
    let reads = 0;
    redisBucketMetrics({
      key: 'closing',
      get stats(): RedisBucketStatsLike {
        reads++;
        return reads === 1 ? STATS : { ...STATS, mode: 'closed' };
      },
    }, { registry });
    expect(familiesOf(await scraped(registry), 'closing')).toEqual(FAMILIES);
    expect(familiesOf(await scraped(registry), 'closing')).toEqual([]);
  });

  it('leaves out only the buckets whose stats are NaN, negative or infinite, and shows the largest finite count', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    redisBucketMetrics({ key: 'nan', stats: { ...STATS, roundTrips: NaN } }, { registry });
    redisBucketMetrics({ key: 'negative', stats: { ...STATS, reserve: -1 } }, { registry });
    redisBucketMetrics({ key: 'infinite', stats: { ...STATS, failures: Infinity } }, { registry });
    redisBucketMetrics({ key: 'huge', stats: { ...STATS, redisTokens: Number.MAX_VALUE } }, { registry });
    const scrape = await scraped(registry);
    for (const key of ['nan', 'negative', 'infinite']) expect(familiesOf(scrape, key)).toEqual([]);
    expect(familiesOf(scrape, 'huge')).toEqual(FAMILIES);
    expect(value(scrape, 'middleware_redis_bucket_tokens_total', { key: 'huge', source: 'redis' })).toBe(Number.MAX_VALUE);
  });
});

describe('redisBucketMetrics (Prometheus): exporting many buckets', () => {
  it('registers each of 2 000 buckets without visiting the sources of the buckets already exported', () => {
    const registry = new Registry();
    redisBucketMetrics(new FakeBucket('k0'), { registry });
    // Count the sources visited on one family while more buckets are registered.
    const family = registry.getSingleMetric('middleware_redis_bucket_mode') as unknown as { sources: Set<unknown> };
    let visited = 0;
    const iterate = Set.prototype[Symbol.iterator];
    Object.defineProperty(family.sources, Symbol.iterator, {
      configurable: true,
      value(this: Set<unknown>) {
        const inner = iterate.call(this);
        return {
          next: () => {
            const step = inner.next();
            if (step.done !== true) visited++;
            return step;
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      },
    });
    const count = 2_000;
    for (let i = 1; i <= count; i++) redisBucketMetrics(new FakeBucket(`k${i}`), { registry });
    // Scanning every source per new bucket visits n²/2 of them per family (10 000 buckets took seconds).
    expect(visited).toBeLessThanOrEqual(2 * count);
  });

  it('exports a bucket again on the same registry and prefix once its export was unregistered', async () => {
    const registry = new Registry();
    const bucket = new FakeBucket('k');
    redisBucketMetrics(new FakeBucket('other'), { registry });
    redisBucketMetrics(bucket, { registry }).unregister();
    redisBucketMetrics(bucket, { registry });
    expect(value(await scraped(registry), 'middleware_redis_bucket_round_trips_total', { key: 'k' })).toBe(7);
    expect(() => redisBucketMetrics(bucket, { registry })).toThrow(InvalidOptionError);
  });
});

describeWithRedis('redisBucketMetrics (Prometheus) on a RedisTokenBucket and a real redis-server', () => {
  const fixture = useRedisServer();

  it('reads mode 0 while Redis answers, 1 and fallbacks_total 1 once it is killed, 0 again once it is back', async () => {
    const redis = await fixture.connect();
    // A patient timeout: only the kill, not a busy machine, may cause the fallback.
    const bucket = new RedisTokenBucket({ redis, key: `metrics:${process.pid}`, rate: 1_000, burst: 100, timeout: 5_000, recheckInterval: 20 });
    const registry = new Registry();
    redisBucketMetrics(bucket, { registry });
    const key = { key: bucket.key };
    try {
      for (let i = 0; i < 3; i++) await bucket.take();
      let scrape = await scraped(registry);
      expect(value(scrape, 'middleware_redis_bucket_mode', key)).toBe(0);
      expect(value(scrape, 'middleware_redis_bucket_tokens_total', { ...key, source: 'redis' })).toBe(3);
      expect(value(scrape, 'middleware_redis_bucket_round_trips_total', key)).toBeGreaterThanOrEqual(1);
      expect(value(scrape, 'middleware_redis_bucket_fallbacks_total', key)).toBe(0);

      const fellBack = new Promise((resolve) => bucket.onFallback(resolve));
      await fixture.server.kill();
      await bucket.take();
      await fellBack;
      await bucket.take();
      scrape = await scraped(registry);
      expect(value(scrape, 'middleware_redis_bucket_mode', key)).toBe(1);
      expect(value(scrape, 'middleware_redis_bucket_fallbacks_total', key)).toBe(1);
      expect(value(scrape, 'middleware_redis_bucket_failures_total', key)).toBeGreaterThanOrEqual(1);
      expect(value(scrape, 'middleware_redis_bucket_tokens_total', { ...key, source: 'local' })).toBeGreaterThanOrEqual(1);

      const recovered = new Promise((resolve) => bucket.onRecover(resolve));
      await fixture.server.restart();
      await recovered;
      scrape = await scraped(registry);
      expect(value(scrape, 'middleware_redis_bucket_mode', key)).toBe(0);
      expect(value(scrape, 'middleware_redis_bucket_fallbacks_total', key)).toBe(1);

      bucket.close();
      expect((await scraped(registry)).samples).toEqual([]);
    } finally {
      bucket.close();
    }
  }, 30_000);
});
