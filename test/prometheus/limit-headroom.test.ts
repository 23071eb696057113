import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_limit_headroom: tokens left in each client\'s own limits, by limit name, read at scrape', () => {
  it('has a series per client and limit, and none for a client without limits', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const pool = new ClientPool<object>({ clock }).use(prometheusMetrics({ registry }));
    pool.add({}, { name: 'key', limit: { requests: { rate: 10 }, tokens: { rate: 40_000, per: 60_000 } } });
    pool.add({}, { name: 'plain' });
    const s = parseExposition(await registry.metrics());
    const series = find(s, 'middleware_limit_headroom').map((sample) => [sample.labels['client'], sample.labels['limit'], sample.value]);
    expect(series.map(([client, limit]) => `${String(client)}/${String(limit)}`).sort()).toEqual(['key/requests', 'key/tokens']);
    await pool.close();
  });

  it('moves as calls take their cost', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const pool = new ClientPool<object>({ clock }).use(prometheusMetrics({ registry }));
    pool.add({}, { name: 'key', limit: { tokens: { rate: 40_000, per: 60_000 } } });
    await pool.run(() => 'x', { cost: { tokens: 1_500 } });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_limit_headroom').map((sample) => sample.value)).toEqual([38_500]);
    await pool.close();
  });
});
