import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CALL_SOURCE, ATTR_METHOD, METRIC_CALL_DURATION, otelMetrics } from '../../src/otel/index.js';
import { collect, points, testMeterProvider } from './metric-reader.js';

describe('clientpool.call.source on clientpool.call.duration', () => {
  it('marks calls answered by another\'s journey or the cache, and leaves calls of their own unmarked', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<object>().use(otelMetrics({ meterProvider: provider }));
    pool.add({}, { name: 'a' });
    await Promise.all([pool.run(() => 1, { method: 'get', coalesce: 'k' }), pool.run(() => 1, { method: 'get', coalesce: 'k' })]);
    const collected = await collect(reader);
    const sources = points(collected, METRIC_CALL_DURATION).map((point) => [point.attributes[ATTR_METHOD], point.attributes[ATTR_CALL_SOURCE]]);
    expect(sources).toEqual([
      ['get', undefined],
      ['get', 'shared'],
    ]);
    await pool.close();
  });
});
