// Attack: docs/priority-shedding.md "Seeing it": clientpool.call.duration with error.type="ERR_SHED".
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { otelMetrics } from '../../../src/otel/index.js';
import { collect, points, testMeterProvider } from '../../otel/metric-reader.js';
import { deferred } from '../../helpers/manual-clock.js';

describe('a shed call in OpenTelemetry metrics', () => {
  it('is recorded in clientpool.call.duration with error.type ERR_SHED', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<object>({ maxWait: 0 }).use(otelMetrics({ meterProvider: provider }));
    pool.add({}, { name: 'a', maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    for (let i = 0; i < 3; i++) await pool.run(() => 'x', { method: 'bg', priority: 'low' }).catch(() => undefined);
    gate.resolve();
    await held;
    const collected = await collect(reader);
    const shed = points(collected, 'clientpool.call.duration').filter((p) => p.attributes['error.type'] === 'ERR_SHED');
    expect(shed).toHaveLength(1);
    expect((shed[0]!.value as { count: number }).count).toBe(3);
    await pool.close();
  });
});
