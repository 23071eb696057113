import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_calls_reused_total: calls answered without a journey of their own', () => {
  it('counts shared, cached and stale answers by method and source, and nothing for calls of their own', async () => {
    const registry = new Registry();
    const pool = new ClientPool<object>().use(prometheusMetrics({ registry }));
    pool.add({}, { name: 'a' });
    const cache = { ttl: 60_000, staleIfError: 60_000, onStale: (): void => undefined };
    await Promise.all([pool.run(() => 1, { method: 'get', coalesce: 'k' }), pool.run(() => 1, { method: 'get', coalesce: 'k' })]);
    await pool.run(() => 2, { method: 'price', coalesce: 'p', cache });
    await pool.run(() => 3, { method: 'price', coalesce: 'p', cache });
    await pool.run(() => 4, { method: 'plain' });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_calls_reused_total').map((sample) => [sample.labels['method'], sample.labels['source'], sample.value])).toEqual([
      ['get', 'shared', 1],
      ['price', 'cache', 1],
    ]);
    await pool.close();
  });
});
