import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  ATTR_REDIS_BUCKET_KEY,
  ATTR_REDIS_BUCKET_SOURCE,
  METER_NAME,
  METRIC_REDIS_BUCKET_EXPIRED_TOKENS,
  METRIC_REDIS_BUCKET_FAILURES,
  METRIC_REDIS_BUCKET_FALLBACKS,
  METRIC_REDIS_BUCKET_LEASED_TOKENS,
  METRIC_REDIS_BUCKET_MODE,
  METRIC_REDIS_BUCKET_RESERVE,
  METRIC_REDIS_BUCKET_ROUND_TRIPS,
  METRIC_REDIS_BUCKET_TOKENS,
  redisBucketMetrics,
} from '../../src/otel/index.js';
import type { RedisBucketStatsLike } from '../../src/prometheus/index.js';
import { RedisTokenBucket } from '../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { observedByKeyCases } from './keyed-stats-cases.js';
import { useTestMeterProvider } from './use-test-meter-provider.js';
import { collect, kindOf, points, testMeterProvider, valueAt, type TestMetricReader } from './metric-reader.js';
import { FakeBucket, STATS } from '../helpers/fake-redis-bucket.js';

const ALL = [
  METRIC_REDIS_BUCKET_MODE,
  METRIC_REDIS_BUCKET_ROUND_TRIPS,
  METRIC_REDIS_BUCKET_FAILURES,
  METRIC_REDIS_BUCKET_FALLBACKS,
  METRIC_REDIS_BUCKET_TOKENS,
  METRIC_REDIS_BUCKET_LEASED_TOKENS,
  METRIC_REDIS_BUCKET_EXPIRED_TOKENS,
  METRIC_REDIS_BUCKET_RESERVE,
];

describe('redisBucketMetrics (OpenTelemetry) with the SDK and an in-memory reader', () => {
  let provider: MeterProvider;
  let reader: TestMetricReader;
  useTestMeterProvider((made) => ({ provider, reader } = made));

  it('observes every stat with its key, as counters, a gauge and an up-down counter, on the clientpool meter', async () => {
    redisBucketMetrics(new FakeBucket('provider-a'), { meterProvider: provider });
    const collected = await collect(reader);
    const key = { [ATTR_REDIS_BUCKET_KEY]: 'provider-a' };
    expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, key)).toBe(0);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_ROUND_TRIPS, key)).toBe(7);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_FAILURES, key)).toBe(2);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_FALLBACKS, key)).toBe(1);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_TOKENS, { ...key, [ATTR_REDIS_BUCKET_SOURCE]: 'redis' })).toBe(20);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_TOKENS, { ...key, [ATTR_REDIS_BUCKET_SOURCE]: 'local' })).toBe(5);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_LEASED_TOKENS, key)).toBe(8);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_EXPIRED_TOKENS, key)).toBe(3);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_RESERVE, key)).toBe(4);
    expect(Object.fromEntries(ALL.map((name) => [name, kindOf(collected.metrics.get(name))]))).toEqual({
      [METRIC_REDIS_BUCKET_MODE]: 'gauge',
      [METRIC_REDIS_BUCKET_ROUND_TRIPS]: 'counter',
      [METRIC_REDIS_BUCKET_FAILURES]: 'counter',
      [METRIC_REDIS_BUCKET_FALLBACKS]: 'counter',
      [METRIC_REDIS_BUCKET_TOKENS]: 'counter',
      [METRIC_REDIS_BUCKET_LEASED_TOKENS]: 'counter',
      [METRIC_REDIS_BUCKET_EXPIRED_TOKENS]: 'counter',
      [METRIC_REDIS_BUCKET_RESERVE]: 'up-down-counter',
    });
    expect(new Set(ALL.map((name) => collected.scopes.get(name)))).toEqual(new Set([METER_NAME]));
  });

  observedByKeyCases<RedisBucketStatsLike>({
    option: 'bucket',
    metrics: redisBucketMetrics,
    fake: (key, stats) => new FakeBucket(key, stats),
    stats: STATS,
    instruments: ALL,
    keyAttribute: ATTR_REDIS_BUCKET_KEY,
    counter: { field: 'roundTrips', instrument: METRIC_REDIS_BUCKET_ROUND_TRIPS },
    malformed: { ...STATS, reserve: Number.NaN },
    factory: 'createObservableCounter',
    refused: [],
  }, () => ({ provider, reader }));

  it('reads mode 1 in fallback, and observes nothing of a closed bucket', async () => {
    redisBucketMetrics(new FakeBucket('k', { mode: 'fallback' }), { meterProvider: provider });
    // Closed from the start: with cumulative temporality the SDK would repeat a series it had seen before.
    redisBucketMetrics(new FakeBucket('gone', { mode: 'closed' }), { meterProvider: provider });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, { [ATTR_REDIS_BUCKET_KEY]: 'k' })).toBe(1);
    for (const name of ALL) expect(points(collected, name).filter((p) => p.attributes[ATTR_REDIS_BUCKET_KEY] === 'gone'), name).toEqual([]);
  });

});

describeWithRedis('redisBucketMetrics (OpenTelemetry) on a RedisTokenBucket and a real redis-server', () => {
  const fixture = useRedisServer();

  it('observes mode 0 while Redis answers, 1 and one fallback once it is killed, 0 again once it is back', async () => {
    const { provider, reader } = testMeterProvider();
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: `otel-metrics:${process.pid}`, rate: 1_000, burst: 100, timeout: 5_000, recheckInterval: 20 });
    redisBucketMetrics(bucket, { meterProvider: provider });
    const key = { [ATTR_REDIS_BUCKET_KEY]: bucket.key };
    try {
      await bucket.take(2);
      let collected = await collect(reader);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, key)).toBe(0);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_TOKENS, { ...key, [ATTR_REDIS_BUCKET_SOURCE]: 'redis' })).toBe(2);

      const fellBack = new Promise((resolve) => bucket.onFallback(resolve));
      await fixture.server.kill();
      await bucket.take();
      await fellBack;
      collected = await collect(reader);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, key)).toBe(1);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_FALLBACKS, key)).toBe(1);

      const recovered = new Promise((resolve) => bucket.onRecover(resolve));
      await fixture.server.restart();
      await recovered;
      collected = await collect(reader);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, key)).toBe(0);
      expect(valueAt(collected, METRIC_REDIS_BUCKET_FALLBACKS, key)).toBe(1);
    } finally {
      bucket.close();
      await provider.shutdown();
    }
  }, 30_000);
});
