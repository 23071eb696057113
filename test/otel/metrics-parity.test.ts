import { Registry, type MetricValueWithName } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientPool, RateLimitedError } from '../../src/index.js';
import { ATTR_ATTEMPT_KIND, ATTR_CLIENT, ATTR_ERROR_TYPE, ATTR_METHOD, ATTR_OUTCOME, METRIC_ATTEMPT_DURATION, METRIC_CALL_DURATION, otelMetrics } from '../../src/otel/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { collect, points, testMeterProvider } from './metric-reader.js';
import type { Histogram } from '@opentelemetry/sdk-metrics';

interface Upstream {
  readonly name: string;
  readonly latencyMs: number;
  isDown: boolean;
}

/** Prometheus samples as `name{label="value",...}` → value, read from the registry. */
async function prometheusSamples(registry: Registry): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    // Histogram values carry their own name (`_bucket`, `_sum`, `_count`), which the typings leave out.
    for (const { labels, value, metricName } of metric.values as readonly MetricValueWithName<string>[]) {
      samples.set(key(metricName ?? metric.name, labels), value);
    }
  }
  return samples;
}

function key(name: string, labels: Record<string, string | number | boolean | undefined>): string {
  const pairs = Object.entries(labels)
    .filter(([, value]) => value !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([label, value]) => `${label}=${String(value)}`);
  return `${name}{${pairs.join(',')}}`;
}

/** OpenTelemetry histogram data points summed into the Prometheus adapter's attempt counters. */
function attemptCounts(otel: Awaited<ReturnType<typeof collect>>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (name: string, labels: Record<string, string>, n: number, sum = 0): void => {
    counts.set(key(name, labels), (counts.get(key(name, labels)) ?? 0) + n);
    if (name === 'middleware_requests_total') counts.set(key('duration_sum', labels), (counts.get(key('duration_sum', labels)) ?? 0) + sum);
  };
  for (const point of points(otel, METRIC_ATTEMPT_DURATION)) {
    const a = point.attributes;
    const labels = { client: String(a[ATTR_CLIENT]), method: String(a[ATTR_METHOD]) };
    const { count, sum = 0 } = point.value as Histogram;
    add('middleware_requests_total', labels, count, sum);
    const outcome = a[ATTR_OUTCOME];
    add('middleware_request_errors_total', labels, outcome === 'failure' || outcome === 'answered' || outcome === 'refused' ? count : 0);
    add('middleware_request_cancelled_total', labels, outcome === 'cancelled' ? count : 0);
    add('middleware_retries_total', labels, a[ATTR_ATTEMPT_KIND] === 'retry' ? count : 0);
    add('middleware_hedges_total', labels, a[ATTR_ATTEMPT_KIND] === 'hedge' ? count : 0);
  }
  return counts;
}

describe('otelMetrics and prometheusMetrics count the same calls alike', () => {
  const { provider, reader } = testMeterProvider();
  afterEach(() => provider.shutdown());

  it('agrees per client and method on attempts, errors, cancellations, retries, hedges and durations, and per method and code on calls', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const pool = new ClientPool<Upstream>({
      clock,
      breaker: false,
      retryBudget: false,
      strategy: 'round-robin',
      isFailure: (error) => !(error instanceof Error && error.message === 'not found'),
    });
    pool.use(prometheusMetrics({ registry, clock }));
    pool.use(otelMetrics({ meterProvider: provider }));
    // Innermost: its refusal is an attempt that held a client and never reached it.
    pool.use({ name: 'quota', execute: (call, next) => (call.method === 'refused' ? Promise.reject(new RateLimitedError(1_000, 'quota')) : next(call)) });
    const clients: Upstream[] = [
      { name: 'a', latencyMs: 3, isDown: false },
      { name: 'b', latencyMs: 30, isDown: true },
      { name: 'c', latencyMs: 300, isDown: false },
    ];
    for (const client of clients) pool.add(client, { name: client.name });

    const timed = (client: Upstream): string => {
      clock.advance(client.latencyMs);
      if (client.isDown) throw new Error(`${client.name} is down`);
      return client.name;
    };
    const settle = (promise: Promise<unknown>): Promise<unknown> => promise.catch((error: unknown) => error);
    for (let i = 0; i < 6; i++) await settle(pool.run(timed, { method: 'get' }));
    for (let i = 0; i < 3; i++) await settle(pool.run(timed, { method: 'put', retry: { attempts: 3, backoff: { initial: 0, max: 0 } } }));
    const slow = deferred<string>();
    await pool.run((client, call) => (call.attempt === 1 ? slow.promise : timed(client)), { method: 'hedged', hedge: { delay: 0 } });
    slow.resolve('late');
    const controller = new AbortController();
    const cancelled = settle(pool.run(() => new Promise(() => {}), { method: 'left', signal: controller.signal }));
    controller.abort();
    await cancelled;
    await settle(pool.run(timed, { method: 'refused' }));
    await settle(pool.run(() => Promise.reject(new Error('not found')), { method: 'answered' }));

    const prometheus = await prometheusSamples(registry);
    const otel = await collect(reader);
    const fromOtel = attemptCounts(otel);
    expect(fromOtel.size).toBeGreaterThan(0);
    for (const [name, value] of fromOtel) {
      if (name.startsWith('duration_sum')) {
        expect(prometheus.get(name.replace('duration_sum', 'middleware_request_duration_seconds_sum')), name).toBeCloseTo(value, 9);
      } else {
        expect(prometheus.get(name) ?? 0, name).toBe(value);
      }
    }
    // Every attempt series Prometheus has, OpenTelemetry has too.
    const prometheusRequests = [...prometheus.keys()].filter((name) => name.startsWith('middleware_requests_total{'));
    expect(prometheusRequests.sort()).toEqual([...fromOtel.keys()].filter((name) => name.startsWith('middleware_requests_total{')).sort());
    expect(prometheusRequests.length).toBeGreaterThanOrEqual(8);
    // Each kind of attempt happened at least once, so the comparison above covered it.
    for (const counter of ['errors', 'cancelled']) expect([...fromOtel].some(([name, value]) => name.startsWith(`middleware_request_${counter}_total`) && value > 0), counter).toBe(true);
    for (const counter of ['retries', 'hedges']) expect([...fromOtel].some(([name, value]) => name.startsWith(`middleware_${counter}_total`) && value > 0), counter).toBe(true);

    // Calls: `code` OK is OpenTelemetry's absent error.type.
    const calls = points(otel, METRIC_CALL_DURATION);
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const point of calls) {
      const labels = { method: String(point.attributes[ATTR_METHOD]), code: String(point.attributes[ATTR_ERROR_TYPE] ?? 'OK') };
      const { count, sum = 0 } = point.value as Histogram;
      expect(prometheus.get(key('middleware_calls_total', labels)), JSON.stringify(labels)).toBe(count);
      expect(prometheus.get(key('middleware_call_duration_seconds_sum', labels)), JSON.stringify(labels)).toBeCloseTo(sum, 9);
    }
    const prometheusCalls = [...prometheus].filter(([name, value]) => name.startsWith('middleware_calls_total{') && value > 0);
    expect(prometheusCalls).toHaveLength(calls.length);
    await pool.close();
  });
});
