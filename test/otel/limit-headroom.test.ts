import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CLIENT, ATTR_LIMIT, METRIC_LIMIT_HEADROOM, otelMetrics } from '../../src/otel/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { collect, testMeterProvider, valueAt } from './metric-reader.js';

describe('clientpool.limit.headroom: tokens left in each client\'s own limits, observed at collection', () => {
  it('observes each limit of each client by name', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<object>({ clock: new ManualClock() }).use(otelMetrics({ meterProvider: provider }));
    pool.add({}, { name: 'key', limit: { requests: { rate: 10 }, tokens: { rate: 40_000, per: 60_000 } } });
    await pool.run(() => 'x', { cost: { tokens: 1_500 } });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_LIMIT_HEADROOM, { [ATTR_CLIENT]: 'key', [ATTR_LIMIT]: 'tokens' })).toBe(38_500);
    expect(valueAt(collected, METRIC_LIMIT_HEADROOM, { [ATTR_CLIENT]: 'key', [ATTR_LIMIT]: 'requests' })).toBe(9);
    await pool.close();
  });
});
