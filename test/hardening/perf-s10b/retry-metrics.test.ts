import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { never, settled, SHAPES, type Client, type Shape } from './harness.js';

// The Prometheus adapter counts attempts (onOutcome) and calls (onCallEnd): a call with retries must count
// the same whether its first attempt's failure reaches the retries through the pick stage or a then().

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const retry = { attempts: 3, backoff: { initial: 10, max: 10, jitter: 'none' as const } };
const boom = (): Promise<never> => Promise.reject(new Error('boom'));

async function countsAfterRetriedCalls(shape: Shape): Promise<Record<string, number>> {
  const registry = new Registry();
  const pool = new ClientPool<Client>({ retryBudget: false, retry, ...(shape === 'limit-first' ? { limit: { rate: 1_000_000, burst: 1_000_000 } } : {}) });
  pool.use(prometheusMetrics({ registry }));
  for (const name of ['a', 'b', 'c']) pool.add({ name }, { name });
  const controller = new AbortController();
  const calls: [string, (client: Client) => Promise<unknown>, RunOptions<Client>][] = [
    ['all-fail', boom, {}],
    ['fail-once', (client) => (client.name === 'a' ? boom() : Promise.resolve('ok')), {}],
    ['timeouts', never, { timeout: 20 }],
    ['aborted', never, { signal: controller.signal }],
    ['ok', () => Promise.resolve('ok'), {}],
  ];
  const pending = calls.map(([method, fn, options]) => settled(pool.run(fn, { method, ...options })));
  await vi.advanceTimersByTimeAsync(5);
  controller.abort('left');
  await vi.advanceTimersByTimeAsync(1_000);
  await Promise.all(pending);
  await pool.close();
  const counts: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    if (String(metric.type) !== 'counter') continue;
    for (const v of metric.values) {
      const labels = Object.entries(v.labels)
        .filter(([k]) => k !== 'client')
        .map(([k, l]) => `${k}=${String(l)}`)
        .sort()
        .join(',');
      const key = `${metric.name}{${labels}}`;
      counts[key] = (counts[key] ?? 0) + v.value;
    }
  }
  return counts;
}

describe('Prometheus counts of calls with retries', () => {
  it('are the same with or without a stage before the pick', async () => {
    const [pickFirst, limitFirst] = [await countsAfterRetriedCalls(SHAPES[0]!), await countsAfterRetriedCalls(SHAPES[1]!)];
    const relevant = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).filter(([k]) => !/rate_limit/.test(k)));
    expect(relevant(pickFirst)).toEqual(relevant(limitFirst));
    expect(Object.keys(relevant(pickFirst)).length).toBeGreaterThan(0);
    expect(pickFirst).toMatchObject({
      'middleware_requests_total{method=all-fail}': 3,
      'middleware_retries_total{method=all-fail}': 2,
      'middleware_calls_total{code=ERR_CLIENT_CALL,method=all-fail}': 1,
      'middleware_requests_total{method=aborted}': 1,
      'middleware_calls_total{code=ERR_ABORTED,method=aborted}': 1,
      'middleware_retries_total{method=timeouts}': 2,
      'middleware_calls_total{code=ERR_TIMEOUT,method=timeouts}': 1,
    });
  });
});
