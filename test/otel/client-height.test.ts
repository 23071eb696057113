import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CLIENT, METRIC_CLIENT_HEIGHT, METRIC_CLIENT_LAG, otelMetrics } from '../../src/otel/index.js';
import { collect, points, testMeterProvider, valueAt } from './metric-reader.js';

describe('clientpool.client.height and clientpool.client.lag: heights against the head, observed at collection', () => {
  it('observes each client\'s height and lag, and nothing for a client that reported none', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<{ height: number }>().use(otelMetrics({ meterProvider: provider }));
    for (const [name, height] of [['a', 100], ['b', 98], ['silent', -1]] as const) pool.add({ height }, { name });
    for (let i = 0; i < 3; i++) await pool.run((client, call) => (client.height >= 0 ? call.reportHeight(client.height) : undefined));
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_CLIENT_HEIGHT, { [ATTR_CLIENT]: 'a' })).toBe(100);
    expect(valueAt(collected, METRIC_CLIENT_LAG, { [ATTR_CLIENT]: 'b' })).toBe(0);
    expect(points(collected, METRIC_CLIENT_HEIGHT)).toHaveLength(2);
    expect(points(collected, METRIC_CLIENT_LAG)).toHaveLength(2);
    await pool.close();
  });
});
