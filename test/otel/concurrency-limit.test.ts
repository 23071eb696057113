import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CLIENT, METRIC_CONCURRENCY_LIMIT, otelMetrics } from '../../src/otel/index.js';
import { collect, points, testMeterProvider, valueAt } from './metric-reader.js';

describe('clientpool.concurrency.limit: each capped client\'s maxInFlight, observed at collection', () => {
  it('observes capped clients with their cap, and nothing for a client without one', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<object>().use(otelMetrics({ meterProvider: provider }));
    pool.add({}, { name: 'capped', maxInFlight: 3 });
    pool.add({}, { name: 'free' });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_CONCURRENCY_LIMIT, { [ATTR_CLIENT]: 'capped' })).toBe(3);
    expect(points(collected, METRIC_CONCURRENCY_LIMIT)).toHaveLength(1);
    await pool.close();
  });
});
