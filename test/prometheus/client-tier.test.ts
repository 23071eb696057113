import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_client_tier: each client\'s priority tier, read at scrape', () => {
  it('lists every client with its tier', async () => {
    const registry = new Registry();
    const pool = new ClientPool<object>().use(prometheusMetrics({ registry }));
    pool.add({}, { name: 'own' });
    pool.add({}, { name: 'paid', tier: 2 });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_client_tier').map((sample) => [sample.labels['client'], sample.value])).toEqual([['own', 0], ['paid', 2]]);
    await pool.close();
  });
});
