import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_concurrency_limit: each capped client\'s maxInFlight, read at scrape', () => {
  it('lists capped clients with their cap, and no series for a client without one', async () => {
    const registry = new Registry();
    const pool = new ClientPool<object>().use(prometheusMetrics({ registry }));
    pool.add({}, { name: 'capped', maxInFlight: 8 });
    pool.add({}, { name: 'free' });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_concurrency_limit').map((sample) => [sample.labels['client'], sample.value])).toEqual([['capped', 8]]);
    await pool.remove('capped');
    expect(find(parseExposition(await registry.metrics()), 'middleware_concurrency_limit')).toEqual([]);
    await pool.close();
  });
});
