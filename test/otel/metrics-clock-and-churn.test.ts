import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_METHOD, METRIC_ATTEMPT_DURATION, METRIC_CALL_DURATION, otelMetrics } from '../../src/otel/index.js';
import { trackedEntries } from '../../src/otel/metrics.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { collect, countWhere, testMeterProvider } from '../otel/metric-reader.js';

// otelMetrics() (src/otel/metrics*.ts) under a clock that steps back and under client churn: call
// durations from onCallEnd, removed clients' attribute sets pruned between collections.

interface Fake {
  readonly name: string;
}

describe('otelMetrics with a clock that steps back, and under churn', () => {
  it("still counts a call and its attempt when the pool's clock steps back during the call", async () => {
    const clock = new ManualClock();
    clock.time = 1_000;
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.use(otelMetrics({ meterProvider: provider }));
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.time = 0;
      return 'x';
    }, { method: 'get' });

    const collected = await collect(reader);
    // The SDK drops a negative histogram value: a duration must be >= 0 for the call to be counted at all,
    // as the Prometheus adapter counts it.
    expect(countWhere(collected, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get' })).toBe(1);
    expect(countWhere(collected, METRIC_ATTEMPT_DURATION, { [ATTR_METHOD]: 'get' })).toBe(1);
    await pool.close();
  });

  it('loses no attempt and stays bounded while 10 000 clients churn through two pools and a reader collects at odd times', async () => {
    const { provider, reader } = testMeterProvider();
    const metrics = otelMetrics({ meterProvider: provider });
    const pools = [new ClientPool<Fake>({ breaker: false }).use(metrics), new ClientPool<Fake>({ breaker: false }).use(metrics)];
    // One client stays in each pool throughout.
    pools[0]!.add({ name: 'stay-0' }, { name: 'stay-0' });
    pools[1]!.add({ name: 'stay-1' }, { name: 'stay-1' });
    let maxAttempts = 0;
    for (let i = 0; i < 10_000; i++) {
      const pool = pools[i % 2]!;
      const name = `c${i}`;
      pool.add({ name }, { name, weight: 1_000 });
      await pool.run(() => 'x', { method: 'get' });
      await pool.remove(name);
      // Collections bunched and then absent: after 7 clients, twice in a row at 4 999, then never until the end.
      if (i === 7 || i === 4_999 || i === 5_000) await collect(reader);
      maxAttempts = Math.max(maxAttempts, trackedEntries(metrics)!.attempts);
    }
    const collected = await collect(reader);
    // Every attempt, the SDK's overflow point included (its cardinality limit is 2 000 attribute sets).
    expect(countWhere(collected, METRIC_ATTEMPT_DURATION, {})).toBe(10_000);
    expect(countWhere(collected, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get' })).toBe(10_000);
    // Amortised pruning: at most one interval (max(64, live clients)) of gone clients' sets, plus the live ones.
    expect(maxAttempts).toBeLessThanOrEqual(64 + 4);
    await Promise.all(pools.map((pool) => pool.close()));
  });
});
