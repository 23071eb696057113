import type { Meter } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { METER_NAME } from '../../src/otel/index.js';
import {
  ATTR_FLEET_KEY,
  METRIC_FLEET_APPLIED,
  METRIC_FLEET_FAILURES,
  METRIC_FLEET_FALLBACKS,
  METRIC_FLEET_LAG,
  METRIC_FLEET_MISMATCHES,
  METRIC_FLEET_MODE,
  METRIC_FLEET_REPORTS,
  METRIC_FLEET_SYNC_AGE,
  METRIC_FLEET_SYNCS,
  redisFleetMetrics,
} from '../../src/otel/redis-fleet-metrics.js';
import type { RedisFleetStatsLike } from '../../src/prometheus/redis-fleet-metrics.js';
import { RedisFleet } from '../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { collect, kindOf, points, testMeterProvider, valueAt, type TestMetricReader } from './metric-reader.js';

const ALL = [METRIC_FLEET_MODE, METRIC_FLEET_SYNC_AGE, METRIC_FLEET_LAG, METRIC_FLEET_SYNCS, METRIC_FLEET_FAILURES, METRIC_FLEET_FALLBACKS, METRIC_FLEET_REPORTS, METRIC_FLEET_APPLIED, METRIC_FLEET_MISMATCHES];

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

describe('redisFleetMetrics (OpenTelemetry) with the SDK and an in-memory reader', () => {
  let provider: MeterProvider;
  let reader: TestMetricReader;

  beforeEach(() => {
    ({ provider, reader } = testMeterProvider());
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await provider.shutdown();
  });

  it('observes every stat with its key, as gauges (ages in seconds) and counters, on the clientpool meter', async () => {
    redisFleetMetrics(new FakeFleet('rpc-fleet'), { meterProvider: provider });
    const collected = await collect(reader);
    const key = { [ATTR_FLEET_KEY]: 'rpc-fleet' };
    expect(valueAt(collected, METRIC_FLEET_MODE, key)).toBe(0);
    expect(valueAt(collected, METRIC_FLEET_SYNC_AGE, key)).toBe(0.12);
    expect(valueAt(collected, METRIC_FLEET_LAG, key)).toBe(0.035);
    expect(valueAt(collected, METRIC_FLEET_SYNCS, key)).toBe(40);
    expect(valueAt(collected, METRIC_FLEET_FAILURES, key)).toBe(3);
    expect(valueAt(collected, METRIC_FLEET_FALLBACKS, key)).toBe(1);
    expect(valueAt(collected, METRIC_FLEET_REPORTS, key)).toBe(12);
    expect(valueAt(collected, METRIC_FLEET_APPLIED, key)).toBe(9);
    expect(valueAt(collected, METRIC_FLEET_MISMATCHES, key)).toBe(2);
    expect(Object.fromEntries(ALL.map((name) => [name, kindOf(collected.metrics.get(name))]))).toEqual({
      [METRIC_FLEET_MODE]: 'gauge',
      [METRIC_FLEET_SYNC_AGE]: 'gauge',
      [METRIC_FLEET_LAG]: 'gauge',
      [METRIC_FLEET_SYNCS]: 'counter',
      [METRIC_FLEET_FAILURES]: 'counter',
      [METRIC_FLEET_FALLBACKS]: 'counter',
      [METRIC_FLEET_REPORTS]: 'counter',
      [METRIC_FLEET_APPLIED]: 'counter',
      [METRIC_FLEET_MISMATCHES]: 'counter',
    });
    expect(collected.metrics.get(METRIC_FLEET_SYNC_AGE)?.descriptor.unit).toBe('s');
    expect(new Set(ALL.map((name) => collected.scopes.get(name)))).toEqual(new Set([METER_NAME]));
  });

  it('reads mode 1 in fallback, and observes nothing of a fleet serving no pool (idle or closed)', async () => {
    redisFleetMetrics(new FakeFleet('k', { mode: 'fallback' }), { meterProvider: provider });
    // Idle or closed from the start: with cumulative temporality the SDK would repeat a series it had seen before.
    redisFleetMetrics(new FakeFleet('idle', { mode: 'idle' }), { meterProvider: provider });
    redisFleetMetrics(new FakeFleet('gone', { mode: 'closed' }), { meterProvider: provider });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_FLEET_MODE, { [ATTR_FLEET_KEY]: 'k' })).toBe(1);
    for (const name of ALL) expect(points(collected, name).filter((p) => p.attributes[ATTR_FLEET_KEY] !== 'k'), name).toEqual([]);
  });

  it('observes no sync age before the first sync, and no lag before the first report applied', async () => {
    redisFleetMetrics(new FakeFleet('k', { syncs: 0, syncAgeMs: Number.POSITIVE_INFINITY, lastLagMs: Number.NaN }), { meterProvider: provider });
    const collected = await collect(reader);
    expect(points(collected, METRIC_FLEET_SYNC_AGE)).toEqual([]);
    expect(points(collected, METRIC_FLEET_LAG)).toEqual([]);
    expect(valueAt(collected, METRIC_FLEET_MODE, { [ATTR_FLEET_KEY]: 'k' })).toBe(0);
  });

  it('reads the stats at collection only, once per collection, failure included: a fleet whole or not at all', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const fleet = new FakeFleet('k');
    redisFleetMetrics(fleet, { meterProvider: provider });
    expect(fleet.reads).toBe(0);
    await collect(reader);
    expect(fleet.reads).toBe(1);
    let reads = 0;
    redisFleetMetrics({
      key: 'flaky',
      get stats(): RedisFleetStatsLike {
        reads++;
        if (reads === 1) throw new Error('stats unavailable');
        return STATS;
      },
    }, { meterProvider: provider });
    const observed = async (): Promise<string[]> => {
      const collected = await collect(reader);
      return ALL.filter((name) => points(collected, name).some((p) => p.attributes[ATTR_FLEET_KEY] === 'flaky'));
    };
    expect(await observed()).toEqual([]);
    expect(reads).toBe(1);
    expect(await observed()).toEqual(ALL);
    expect(reads).toBe(2);
  });

  it('observes several fleets on one meter apart by key, with the constant attributes; unregister() stops reading one', async () => {
    const meter = provider.getMeter('app');
    const first = new FakeFleet('a');
    const a = redisFleetMetrics(first, { meter, attributes: { 'clientpool.pool': 'p' } });
    redisFleetMetrics(new FakeFleet('b', { syncs: 1 }), { meter, attributes: { 'clientpool.pool': 'p' } });
    let collected = await collect(reader);
    expect(valueAt(collected, METRIC_FLEET_SYNCS, { [ATTR_FLEET_KEY]: 'a', 'clientpool.pool': 'p' })).toBe(40);
    expect(valueAt(collected, METRIC_FLEET_SYNCS, { [ATTR_FLEET_KEY]: 'b', 'clientpool.pool': 'p' })).toBe(1);
    a.unregister();
    a.unregister();
    first.current = { ...first.current, syncs: 100 };
    const reads = first.reads;
    collected = await collect(reader);
    expect(first.reads).toBe(reads);
    expect(valueAt(collected, METRIC_FLEET_SYNCS, { [ATTR_FLEET_KEY]: 'a', 'clientpool.pool': 'p' })).not.toBe(100);
  });

  it('leaves out a fleet whose stats getter throws or are malformed, warns once each, and keeps observing the others', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = { key: 'broken', get stats(): RedisFleetStatsLike { throw new Error('boom'); } };
    redisFleetMetrics(broken, { meterProvider: provider });
    redisFleetMetrics({ key: 'odd', stats: { ...STATS, syncAgeMs: Number.NaN } }, { meterProvider: provider });
    redisFleetMetrics(new FakeFleet('fine'), { meterProvider: provider });
    for (let i = 0; i < 2; i++) {
      const collected = await collect(reader);
      expect(points(collected, METRIC_FLEET_MODE).map((p) => p.attributes[ATTR_FLEET_KEY])).toEqual(['fine']);
    }
    expect(warnings).toHaveBeenCalledTimes(2);
    expect(String(warnings.mock.calls[0]![0])).toContain('boom');
  });

  it('reports a meter whose removeBatchObservableCallback throws, instead of throwing from unregister()', () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const real = provider.getMeter('app');
    const meter = Object.assign(Object.create(real) as Meter, {
      removeBatchObservableCallback: () => {
        throw new Error('refused');
      },
    });
    const metrics = redisFleetMetrics(new FakeFleet('k'), { meter });
    expect(() => metrics.unregister()).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['no fleet', undefined, {}, 'fleet'],
    ['a fleet without stats', { key: 'k' }, {}, 'fleet'],
    ['a fleet with an empty key', { key: '', stats: STATS }, {}, 'fleet'],
    ['an unknown option', { key: 'k', stats: STATS }, { prefix: 'x' }, 'options.prefix'],
    ['both meter and meterProvider', { key: 'k', stats: STATS }, 'both', 'meter'],
    ['a meter that is not one', { key: 'k', stats: STATS }, { meter: {} }, 'meter'],
    ['a meterProvider that is not one', { key: 'k', stats: STATS }, { meterProvider: {} }, 'meterProvider'],
    ['a reserved attribute', { key: 'k', stats: STATS }, { attributes: { [ATTR_FLEET_KEY]: 'x' } }, 'attributes'],
    ['an attribute that is an object', { key: 'k', stats: STATS }, { attributes: { a: {} } }, 'attributes.a'],
  ])('refuses %s with InvalidOptionError naming it', (_, fleet, options, option) => {
    const resolved = options === 'both' ? { meter: provider.getMeter('x'), meterProvider: provider } : options;
    let thrown: unknown;
    try {
      redisFleetMetrics(fleet as never, resolved);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
  });

  it('refuses a meter whose instrument factory throws, with what it threw as the cause', () => {
    const real = provider.getMeter('app');
    const cause = new Error('no gauges');
    const meter = Object.assign(Object.create(real) as Meter, {
      createObservableGauge: () => {
        throw cause;
      },
    });
    expect(() => redisFleetMetrics(new FakeFleet('k'), { meter })).toThrow(expect.objectContaining({ option: 'meter', cause }) as Error);
  });
});

describeWithRedis('redisFleetMetrics (OpenTelemetry) on a RedisFleet and a real redis-server', () => {
  const fixture = useRedisServer();

  it('observes mode 0 while Redis answers, 1 and one fallback once it is killed, 0 again once it is back', async () => {
    const { provider, reader } = testMeterProvider();
    const redis = await fixture.connect();
    const fleet = new RedisFleet({ redis, key: `otel-fleet-metrics:${process.pid}`, syncInterval: 20, timeout: 5_000, recheckInterval: 20 });
    redisFleetMetrics(fleet, { meterProvider: provider });
    const pool = new ClientPool<object>({ fleet });
    pool.add({}, { name: 'x' });
    const key = { [ATTR_FLEET_KEY]: fleet.key };
    try {
      while (fleet.stats.syncs === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      let collected = await collect(reader);
      expect(valueAt(collected, METRIC_FLEET_MODE, key)).toBe(0);
      expect(valueAt(collected, METRIC_FLEET_SYNCS, key)).toBeGreaterThanOrEqual(1);

      const fellBack = new Promise((resolve) => fleet.onFallback(resolve));
      await fixture.server.kill();
      await fellBack;
      collected = await collect(reader);
      expect(valueAt(collected, METRIC_FLEET_MODE, key)).toBe(1);
      expect(valueAt(collected, METRIC_FLEET_FALLBACKS, key)).toBe(1);

      const recovered = new Promise((resolve) => fleet.onRecover(resolve));
      await fixture.server.restart();
      await recovered;
      collected = await collect(reader);
      expect(valueAt(collected, METRIC_FLEET_MODE, key)).toBe(0);
      expect(valueAt(collected, METRIC_FLEET_FALLBACKS, key)).toBe(1);
    } finally {
      await pool.close();
      await provider.shutdown();
    }
  }, 30_000);
});
