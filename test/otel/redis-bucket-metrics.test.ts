import type { Meter } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
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

  beforeEach(() => {
    ({ provider, reader } = testMeterProvider());
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await provider.shutdown();
  });

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

  it('reads mode 1 in fallback, and observes nothing of a closed bucket', async () => {
    redisBucketMetrics(new FakeBucket('k', { mode: 'fallback' }), { meterProvider: provider });
    // Closed from the start: with cumulative temporality the SDK would repeat a series it had seen before.
    redisBucketMetrics(new FakeBucket('gone', { mode: 'closed' }), { meterProvider: provider });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_MODE, { [ATTR_REDIS_BUCKET_KEY]: 'k' })).toBe(1);
    for (const name of ALL) expect(points(collected, name).filter((p) => p.attributes[ATTR_REDIS_BUCKET_KEY] === 'gone'), name).toEqual([]);
  });

  it('reads the stats at collection only, once each', async () => {
    const bucket = new FakeBucket('k');
    redisBucketMetrics(bucket, { meterProvider: provider });
    expect(bucket.reads).toBe(0);
    await collect(reader);
    expect(bucket.reads).toBe(1);
  });

  it('reads the stats once per collection, failure included, and observes a bucket whole or not at all', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let reads = 0;
    redisBucketMetrics({
      key: 'flaky',
      get stats(): RedisBucketStatsLike {
        reads++;
        // A Redis client mid-reconnect: the first read throws, later ones work.
        if (reads === 1) throw new Error('stats unavailable');
        return STATS;
      },
    }, { meterProvider: provider });
    const observed = async (): Promise<string[]> => {
      const collected = await collect(reader);
      return ALL.filter((name) => points(collected, name).some((p) => p.attributes[ATTR_REDIS_BUCKET_KEY] === 'flaky'));
    };
    expect(await observed()).toEqual([]);
    expect(reads).toBe(1);
    expect(await observed()).toEqual(ALL);
    expect(reads).toBe(2);
  });

  it('observes several buckets on one meter apart by key, with the constant attributes; unregister() stops reading one', async () => {
    const meter = provider.getMeter('app');
    const first = new FakeBucket('a');
    const a = redisBucketMetrics(first, { meter, attributes: { 'clientpool.pool': 'p' } });
    redisBucketMetrics(new FakeBucket('b', { roundTrips: 1 }), { meter, attributes: { 'clientpool.pool': 'p' } });
    let collected = await collect(reader);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_ROUND_TRIPS, { [ATTR_REDIS_BUCKET_KEY]: 'a', 'clientpool.pool': 'p' })).toBe(7);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_ROUND_TRIPS, { [ATTR_REDIS_BUCKET_KEY]: 'b', 'clientpool.pool': 'p' })).toBe(1);
    a.unregister();
    a.unregister();
    first.current = { ...first.current, roundTrips: 100 };
    const reads = first.reads;
    collected = await collect(reader);
    expect(first.reads).toBe(reads);
    expect(valueAt(collected, METRIC_REDIS_BUCKET_ROUND_TRIPS, { [ATTR_REDIS_BUCKET_KEY]: 'a', 'clientpool.pool': 'p' })).not.toBe(100);
  });

  it('leaves out a bucket whose stats getter throws, warns once, and keeps observing the others', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = { key: 'broken', get stats(): RedisBucketStatsLike { throw new Error('boom'); } };
    redisBucketMetrics(broken, { meterProvider: provider });
    redisBucketMetrics(new FakeBucket('fine'), { meterProvider: provider });
    for (let i = 0; i < 2; i++) {
      const collected = await collect(reader);
      expect(points(collected, METRIC_REDIS_BUCKET_MODE).map((p) => p.attributes[ATTR_REDIS_BUCKET_KEY])).toEqual(['fine']);
    }
    expect(warnings).toHaveBeenCalledTimes(1);
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
    const metrics = redisBucketMetrics(new FakeBucket('k'), { meter });
    expect(() => metrics.unregister()).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['no bucket', undefined, {}, 'bucket'],
    ['a bucket without stats', { key: 'k' }, {}, 'bucket'],
    ['an unknown option', { key: 'k', stats: STATS }, { prefix: 'x' }, 'options.prefix'],
    ['both meter and meterProvider', { key: 'k', stats: STATS }, 'both', 'meter'],
    ['a meter that is not one', { key: 'k', stats: STATS }, { meter: {} }, 'meter'],
    ['a meterProvider that is not one', { key: 'k', stats: STATS }, { meterProvider: {} }, 'meterProvider'],
    ['a reserved attribute', { key: 'k', stats: STATS }, { attributes: { [ATTR_REDIS_BUCKET_KEY]: 'x' } }, 'attributes'],
    ['an attribute that is an object', { key: 'k', stats: STATS }, { attributes: { a: {} } }, 'attributes.a'],
  ])('refuses %s with InvalidOptionError naming it', (_, bucket, options, option) => {
    const resolved = options === 'both' ? { meter: provider.getMeter('x'), meterProvider: provider } : options;
    let thrown: unknown;
    try {
      redisBucketMetrics(bucket as never, resolved);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
  });

  it('refuses a meter whose instrument factory throws, with what it threw as the cause', () => {
    const real = provider.getMeter('app');
    const cause = new Error('no counters');
    const meter = Object.assign(Object.create(real) as Meter, {
      createObservableCounter: () => {
        throw cause;
      },
    });
    expect(() => redisBucketMetrics(new FakeBucket('k'), { meter })).toThrow(expect.objectContaining({ option: 'meter', cause }) as Error);
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
