import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { prometheusMetrics, redisBucketMetrics } from '../../src/prometheus/index.js';
import { redisFleetMetrics, type RedisFleetStatsLike } from '../../src/prometheus/redis-fleet-metrics.js';
import { RedisFleet } from '../../src/redis/index.js';
import { FakeBucket } from '../helpers/fake-redis-bucket.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { find, parseExposition, value, type Scrape } from './exposition.js';

async function scraped(registry: Registry): Promise<Scrape> {
  return parseExposition(await registry.metrics());
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Stats of a fleet on Redis with some history: every counter above 0. */
const STATS: RedisFleetStatsLike = { mode: 'redis', syncs: 40, failures: 3, fallbacks: 1, reports: 12, applied: 9, syncAgeMs: 120, lastLagMs: 35, mismatches: 2 };

/** A fleet of the shape the metrics read, with stats the test sets; counts how often they are read. */
class FakeFleet {
  readonly key: string;
  current: RedisFleetStatsLike;
  reads = 0;

  constructor(key: string, stats: Partial<RedisFleetStatsLike> = {}) {
    this.key = key;
    this.current = { ...STATS, ...stats };
  }

  get stats(): RedisFleetStatsLike {
    this.reads++;
    return this.current;
  }
}

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

  it('reads the stats only when scraped, once per scrape whatever the number of families', async () => {
    const registry = new Registry();
    const fleet = new FakeFleet('k');
    redisFleetMetrics(fleet, { registry });
    expect(fleet.reads).toBe(0);
    await registry.metrics();
    expect(fleet.reads).toBe(1);
    fleet.current = { ...fleet.current, applied: 10 };
    expect(value(await scraped(registry), 'middleware_fleet_applied_total', { key: 'k' })).toBe(10);
    expect(fleet.reads).toBe(2);
  });

  it('puts several fleets in the same families, by key, and unregister() takes one off, then the families', async () => {
    const registry = new Registry();
    const a = redisFleetMetrics(new FakeFleet('a'), { registry });
    const b = redisFleetMetrics(new FakeFleet('b', { syncs: 1 }), { registry });
    let scrape = await scraped(registry);
    expect(find(scrape, 'middleware_fleet_syncs_total').map((s) => [s.labels['key'], s.value])).toEqual([['a', 40], ['b', 1]]);
    a.unregister();
    scrape = await scraped(registry);
    expect(find(scrape, 'middleware_fleet_syncs_total').map((s) => s.labels['key'])).toEqual(['b']);
    b.unregister();
    b.unregister();
    expect(registry.getMetricsAsArray()).toEqual([]);
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

  it('refuses the same fleet twice on one registry and prefix, leaving the first export as it was', async () => {
    const registry = new Registry();
    const fleet = new FakeFleet('k');
    redisFleetMetrics(fleet, { registry });
    expect(() => redisFleetMetrics(fleet, { registry })).toThrow(expect.objectContaining({ option: 'fleet' }) as Error);
    expect(value(await scraped(registry), 'middleware_fleet_syncs_total', { key: 'k' })).toBe(40);
    // Another prefix is another set of families: allowed.
    redisFleetMetrics(fleet, { registry, prefix: 'rpc' });
    expect(value(await scraped(registry), 'rpc_fleet_syncs_total', { key: 'k' })).toBe(40);
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

  it('leaves a fleet whose stats getter throws out of the scrape, warns once, and keeps the other fleets', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    const broken = { key: 'broken', get stats(): RedisFleetStatsLike { throw new Error('boom'); } };
    redisFleetMetrics(broken, { registry });
    redisFleetMetrics(new FakeFleet('fine'), { registry });
    for (let i = 0; i < 2; i++) {
      const scrape = await scraped(registry);
      expect(new Set(scrape.samples.map((s) => s.labels['key']))).toEqual(new Set(['fine']));
    }
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(String(warnings.mock.calls[0]![0])).toContain('boom');
    expect(warnings.mock.calls[0]![1]).toMatchObject({ code: 'CLIENTPOOL_CALLBACK_ERROR' });
  });

  it('leaves the whole fleet out of a scrape whose one stats read failed, and shows it whole in the next', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    let reads = 0;
    redisFleetMetrics({
      key: 'flaky',
      get stats(): RedisFleetStatsLike {
        reads++;
        if (reads === 1) throw new Error('stats unavailable');
        return STATS;
      },
    }, { registry });
    expect(familiesOf(await scraped(registry), 'flaky')).toEqual([]);
    expect(reads).toBe(1);
    expect(familiesOf(await scraped(registry), 'flaky')).toEqual(FAMILIES);
    expect(reads).toBe(2);
  });

  it.each([
    ['not an object', 42],
    ['an unknown mode', { ...STATS, mode: 'sideways' }],
    ['a count that is not a number', { ...STATS, syncs: '7' }],
    ['a negative count', { ...STATS, failures: -1 }],
    ['an infinite count', { ...STATS, applied: Infinity }],
    ['a NaN sync age', { ...STATS, syncAgeMs: Number.NaN }],
    ['a negative lag', { ...STATS, lastLagMs: -5 }],
    ['an infinite lag', { ...STATS, lastLagMs: Infinity }],
  ])('leaves a fleet out of the scrape when its stats are %s', async (_, stats) => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    redisFleetMetrics({ key: 'odd', stats: stats as RedisFleetStatsLike }, { registry });
    expect((await scraped(registry)).samples).toEqual([]);
  });

  it('makes its own registry when given none, never the global one', async () => {
    const metrics = redisFleetMetrics(new FakeFleet('k'));
    expect(value(await scraped(metrics.registry as Registry), 'middleware_fleet_mode', { key: 'k' })).toBe(0);
    expect(metrics.key).toBe('k');
  });

  it.each([
    ['no object', undefined, {}, 'fleet'],
    ['a fleet without key', { stats: STATS }, {}, 'fleet'],
    ['a fleet with an empty key', { key: '', stats: STATS }, {}, 'fleet'],
    ['a fleet without stats', { key: 'k' }, {}, 'fleet'],
    ['a fleet whose key getter throws', { get key(): string { throw new Error('no'); }, stats: STATS }, {}, 'fleet'],
    ['an unknown option', { key: 'k', stats: STATS }, { maxMethods: 3 }, 'options.maxMethods'],
    ['a bad prefix', { key: 'k', stats: STATS }, { prefix: '1x' }, 'prefix'],
    ['a constant label named key', { key: 'k', stats: STATS }, { labels: { key: 'x' } }, 'labels'],
    ['a registry that is not one', { key: 'k', stats: STATS }, { registry: {} }, 'registry'],
  ])('refuses %s with InvalidOptionError naming it', (_, fleet, options, option) => {
    let thrown: unknown;
    try {
      redisFleetMetrics(fleet as never, options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
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
