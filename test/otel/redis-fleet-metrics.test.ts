import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
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
import { FakeFleet, FLEET_STATS as STATS } from '../helpers/fake-redis-fleet.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { observedByKeyCases } from './keyed-stats-cases.js';
import { useTestMeterProvider } from './use-test-meter-provider.js';
import { collect, kindOf, points, testMeterProvider, valueAt, type TestMetricReader } from './metric-reader.js';

const ALL = [METRIC_FLEET_MODE, METRIC_FLEET_SYNC_AGE, METRIC_FLEET_LAG, METRIC_FLEET_SYNCS, METRIC_FLEET_FAILURES, METRIC_FLEET_FALLBACKS, METRIC_FLEET_REPORTS, METRIC_FLEET_APPLIED, METRIC_FLEET_MISMATCHES];

describe('redisFleetMetrics (OpenTelemetry) with the SDK and an in-memory reader', () => {
  let provider: MeterProvider;
  let reader: TestMetricReader;
  useTestMeterProvider((made) => ({ provider, reader } = made));

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

  observedByKeyCases<RedisFleetStatsLike>({
    option: 'fleet',
    metrics: redisFleetMetrics,
    fake: (key, stats) => new FakeFleet(key, stats),
    stats: STATS,
    instruments: ALL,
    keyAttribute: ATTR_FLEET_KEY,
    counter: { field: 'syncs', instrument: METRIC_FLEET_SYNCS },
    malformed: { ...STATS, syncAgeMs: Number.NaN },
    factory: 'createObservableGauge',
    refused: [['a fleet with an empty key', { key: '', stats: STATS }, {}, 'fleet']],
  }, () => ({ provider, reader }));

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
