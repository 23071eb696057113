import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import type { RateLimitEvent } from '../../src/index.js';
import { histogram, parseExposition, value } from './exposition.js';
import { StandInPool } from './stand-in-pool.js';

const event = (scope: 'pool' | 'client', client: string | undefined, waitedMs: number, rejected: boolean): RateLimitEvent => ({ scope, client, method: 'get', waitedMs, rejected });

describe('rate-limit metrics, from pool.onRateLimit', () => {
  it('counts refusals by scope and client, and times the waits of calls that got a token', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, waitBuckets: [0.01, 0.1, 1] });
    const pool = new StandInPool();
    metrics.attach(pool);
    for (const e of [
      event('pool', undefined, 5, false),
      event('pool', undefined, 50, false),
      event('pool', undefined, 1_000, true),
      event('client', 'a', 200, false),
      event('client', 'a', 1_000, true),
      event('client', 'a', 1_000, true),
      event('client', undefined, 0, true),
    ]) pool.rateLimits.emit(e);

    const s = parseExposition(await registry.metrics());
    expect(value(s, 'middleware_rate_limited_total', { scope: 'pool', client: '' })).toBe(1);
    expect(value(s, 'middleware_rate_limited_total', { scope: 'client', client: 'a' })).toBe(2);
    expect(value(s, 'middleware_rate_limited_total', { scope: 'client', client: '' })).toBe(1);
    const poolWaits = histogram(s, 'middleware_rate_limit_wait_seconds', { scope: 'pool', client: '' });
    expect(poolWaits).toEqual({ buckets: new Map([['0.01', 1], ['0.1', 2], ['1', 2], ['+Inf', 2]]), sum: 0.005 + 0.05, count: 2 });
    const clientWaits = histogram(s, 'middleware_rate_limit_wait_seconds', { scope: 'client', client: 'a' });
    expect(clientWaits.count).toBe(1);
    expect(clientWaits.buckets.get('0.1')).toBe(0);
    expect(clientWaits.buckets.get('1')).toBe(1);
  });

  it('stops listening after unregister()', () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    const pool = new StandInPool();
    metrics.attach(pool);
    expect([pool.rateLimits.hasListeners, pool.stateChanges.hasListeners]).toEqual([true, true]);
    metrics.unregister();
    expect([pool.rateLimits.hasListeners, pool.stateChanges.hasListeners]).toEqual([false, false]);
  });
});
