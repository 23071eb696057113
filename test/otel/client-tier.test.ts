import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CLIENT, METRIC_CLIENT_TIER, otelMetrics } from '../../src/otel/index.js';
import { collect, testMeterProvider, valueAt } from './metric-reader.js';

describe('clientpool.client.tier: each client\'s priority tier, observed at collection', () => {
  it('observes every client with its tier', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<object>().use(otelMetrics({ meterProvider: provider }));
    pool.add({}, { name: 'own' });
    pool.add({}, { name: 'paid', tier: 1 });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_CLIENT_TIER, { [ATTR_CLIENT]: 'own' })).toBe(0);
    expect(valueAt(collected, METRIC_CLIENT_TIER, { [ATTR_CLIENT]: 'paid' })).toBe(1);
    await pool.close();
  });
});
