import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_client_height and <prefix>_client_lag: heights against the head, read at scrape', () => {
  it('lists each client\'s height and lag, and no series for a client that reported none', async () => {
    const registry = new Registry();
    const pool = new ClientPool<{ height: number }>({ freshness: { maxLag: 3 } }).use(prometheusMetrics({ registry }));
    for (const [name, height] of [['a', 100], ['b', 100], ['c', 95]] as const) pool.add({ height }, { name });
    pool.add({ height: -1 }, { name: 'silent' });
    for (let i = 0; i < 4; i++) await pool.run((client, call) => (client.height >= 0 ? call.reportHeight(client.height) : undefined));
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_client_height').map((sample) => [sample.labels['client'], sample.value])).toEqual([['a', 100], ['b', 100], ['c', 95]]);
    expect(find(s, 'middleware_client_lag').map((sample) => [sample.labels['client'], sample.value])).toEqual([['a', 0], ['b', 0], ['c', 5]]);
    await pool.close();
  });
});
