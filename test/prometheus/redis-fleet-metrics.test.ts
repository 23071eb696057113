import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics, redisBucketMetrics } from '../../src/prometheus/index.js';
import { redisFleetMetrics, type RedisFleetStatsLike } from '../../src/prometheus/redis-fleet-metrics.js';
import { RedisFleet } from '../../src/redis/index.js';
import { FakeBucket } from '../helpers/fake-redis-bucket.js';
import { FakeFleet, FLEET_STATS as STATS } from '../helpers/fake-redis-fleet.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { find, value, type Scrape } from './exposition.js';
import { exportedByKeyCases, scraped } from './keyed-stats-cases.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every family `redisFleetMetrics` exports. */
const FAMILIES = ['mode', 'sync_age_seconds', 'lag_seconds', 'syncs_total', 'failures_total', 'fallbacks_total', 'reports_total', 'applied_total', 'mismatches_total'].map((name) => `middleware_fleet_${name}`);

/** The families that have a series of fleet `key` in a scrape. */
const familiesOf = (scrape: Scrape, key: string): string[] => FAMILIES.filter((name) => find(scrape, name, { key }).length > 0);

describe('redisFleetMetrics (Prometheus), on a fleet of the right shape', () => {
  it('exports every stat under the default prefix, by key: ages in seconds, counters as they are', async () => {
    const registry = new Registry();
    redisFleetMetrics(new FakeFleet('rpc-fleet'), { registry });
    const scrape = await scraped(registry);
    const key = { key: 'rpc-fleet' };
    expect(value(scrape, 'middleware_fleet_mode', key)).toBe(0);
    expect(value(scrape, 'middleware_fleet_sync_age_seconds', key)).toBe(0.12);
    expect(value(scrape, 'middleware_fleet_lag_seconds', key)).toBe(0.035);
    expect(value(scrape, 'middleware_fleet_syncs_total', key)).toBe(40);
    expect(value(scrape, 'middleware_fleet_failures_total', key)).toBe(3);
    expect(value(scrape, 'middleware_fleet_fallbacks_total', key)).toBe(1);
    expect(value(scrape, 'middleware_fleet_reports_total', key)).toBe(12);
    expect(value(scrape, 'middleware_fleet_applied_total', key)).toBe(9);
    expect(value(scrape, 'middleware_fleet_mismatches_total', key)).toBe(2);
    expect(Object.fromEntries(scrape.types)).toEqual({
      middleware_fleet_mode: 'gauge',
      middleware_fleet_sync_age_seconds: 'gauge',
      middleware_fleet_lag_seconds: 'gauge',
      middleware_fleet_syncs_total: 'counter',
      middleware_fleet_failures_total: 'counter',
      middleware_fleet_fallbacks_total: 'counter',
      middleware_fleet_reports_total: 'counter',
      middleware_fleet_applied_total: 'counter',
      middleware_fleet_mismatches_total: 'counter',
    });
  });

  exportedByKeyCases<RedisFleetStatsLike>({
    option: 'fleet',
    metrics: redisFleetMetrics,
    fake: (key, stats) => new FakeFleet(key, stats),
    stats: STATS,
    families: FAMILIES,
    counter: { field: 'syncs', family: 'fleet_syncs_total' },
    mode: 'middleware_fleet_mode',
    malformed: [
      ['an infinite count', { ...STATS, applied: Infinity }],
      ['a NaN sync age', { ...STATS, syncAgeMs: Number.NaN }],
      ['a negative lag', { ...STATS, lastLagMs: -5 }],
      ['an infinite lag', { ...STATS, lastLagMs: Infinity }],
    ],
    refused: [],
  });

  it('reads mode 1 in fallback, and has no series for a fleet that serves no pool (idle or closed)', async () => {
    const registry = new Registry();
    const fleet = new FakeFleet('k', { mode: 'fallback' });
    redisFleetMetrics(fleet, { registry });
    expect(value(await scraped(registry), 'middleware_fleet_mode', { key: 'k' })).toBe(1);
    fleet.current = { ...fleet.current, mode: 'closed' };
    expect((await scraped(registry)).samples).toEqual([]);
    fleet.current = { ...fleet.current, mode: 'idle' };
    expect((await scraped(registry)).samples).toEqual([]);
  });

  it('has no sync-age series before the first sync, and no lag series before the first report applied', async () => {
    const registry = new Registry();
    const fleet = new FakeFleet('k', { syncs: 0, applied: 0, syncAgeMs: Number.POSITIVE_INFINITY, lastLagMs: Number.NaN });
    redisFleetMetrics(fleet, { registry });
    let scrape = await scraped(registry);
    expect(familiesOf(scrape, 'k')).toEqual(FAMILIES.filter((name) => !/sync_age|lag/.test(name)));
    fleet.current = { ...fleet.current, syncs: 1, syncAgeMs: 0 };
    scrape = await scraped(registry);
    expect(value(scrape, 'middleware_fleet_sync_age_seconds', { key: 'k' })).toBe(0);
    expect(find(scrape, 'middleware_fleet_lag_seconds')).toEqual([]);
  });

  it('adds up two fleets with one key, and keeps the worse mode, the older sync and the larger lag', async () => {
    const registry = new Registry();
    redisFleetMetrics(new FakeFleet('k', { syncAgeMs: 100, lastLagMs: 50 }), { registry });
    redisFleetMetrics(new FakeFleet('k', { mode: 'fallback', syncAgeMs: 3_000, lastLagMs: 20 }), { registry });
    const scrape = await scraped(registry);
    expect(value(scrape, 'middleware_fleet_mode', { key: 'k' })).toBe(1);
    expect(value(scrape, 'middleware_fleet_sync_age_seconds', { key: 'k' })).toBe(3);
    expect(value(scrape, 'middleware_fleet_lag_seconds', { key: 'k' })).toBe(0.05);
    expect(value(scrape, 'middleware_fleet_syncs_total', { key: 'k' })).toBe(80);
  });

  it("sits beside the pool's prometheusMetrics and a bucket's redisBucketMetrics on one registry, with their prefix and constant labels", async () => {
    const registry = new Registry();
    prometheusMetrics({ registry, prefix: 'rpc', labels: { pool: 'p' } });
    redisBucketMetrics(new FakeBucket('quota'), { registry, prefix: 'rpc', labels: { pool: 'p' } });
    redisFleetMetrics(new FakeFleet('k'), { registry, prefix: 'rpc', labels: { pool: 'p' } });
    const text = await registry.metrics();
    expect(text).toContain('rpc_fleet_applied_total{key="k",pool="p"} 9');
    expect(text).toContain('# TYPE rpc_redis_bucket_mode gauge');
    expect(text).toContain('# TYPE rpc_calls_total counter');
  });

});

describeWithRedis('redisFleetMetrics (Prometheus) on a RedisFleet and a real redis-server', () => {
  const fixture = useRedisServer();

  it('reads mode 0 while Redis answers, 1 and fallbacks_total 1 once it is killed, 0 again once it is back; nothing once the pool closes', async () => {
    const redis = await fixture.connect();
    // A patient timeout: only the kill, not a busy machine, may cause the fallback.
    const fleet = new RedisFleet({ redis, key: `fleet-metrics:${process.pid}`, syncInterval: 20, timeout: 5_000, recheckInterval: 20 });
    const registry = new Registry();
    redisFleetMetrics(fleet, { registry });
    const key = { key: fleet.key };
    expect((await scraped(registry)).samples).toEqual([]);
    const pool = new ClientPool<object>({ fleet });
    pool.add({}, { name: 'x' });
    try {
      while (fleet.stats.syncs === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      let scrape = await scraped(registry);
      expect(value(scrape, 'middleware_fleet_mode', key)).toBe(0);
      expect(value(scrape, 'middleware_fleet_syncs_total', key)).toBeGreaterThanOrEqual(1);
      expect(value(scrape, 'middleware_fleet_sync_age_seconds', key)).toBeGreaterThanOrEqual(0);
      expect(value(scrape, 'middleware_fleet_fallbacks_total', key)).toBe(0);

      const fellBack = new Promise((resolve) => fleet.onFallback(resolve));
      await fixture.server.kill();
      await fellBack;
      scrape = await scraped(registry);
      expect(value(scrape, 'middleware_fleet_mode', key)).toBe(1);
      expect(value(scrape, 'middleware_fleet_fallbacks_total', key)).toBe(1);
      expect(value(scrape, 'middleware_fleet_failures_total', key)).toBeGreaterThanOrEqual(1);

      const recovered = new Promise((resolve) => fleet.onRecover(resolve));
      await fixture.server.restart();
      await recovered;
      scrape = await scraped(registry);
      expect(value(scrape, 'middleware_fleet_mode', key)).toBe(0);
      expect(value(scrape, 'middleware_fleet_fallbacks_total', key)).toBe(1);

      await pool.close();
      expect((await scraped(registry)).samples).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 30_000);
});
