import { createNoopMeter } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AggregationTemporality, MeterProvider } from '@opentelemetry/sdk-metrics';
import { ClientPool } from '../../src/index.js';
import { ATTR_ATTEMPT_KIND, ATTR_CLIENT, ATTR_METHOD, ATTR_OUTCOME, METRIC_ATTEMPT_DURATION, METRIC_CIRCUIT_TRANSITIONS, otelMetrics } from '../../src/otel/index.js';
import { trackedEntries } from '../../src/otel/metrics.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { snapshot, StandInPool } from '../prometheus/stand-in-pool.js';
import { collect, countWhere, histogramAt, points, testMeterProvider, TestMetricReader, type Collected } from './metric-reader.js';

interface Fake {
  readonly name: string;
}

/** Each of `count` clients is added, runs one call of `fn` (a failure is expected), and is removed. */
async function churn(pool: ClientPool<Fake>, count: number, prefix: string, fn: (client: Fake) => string = () => 'x'): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    pool.add({ name }, { name });
    await pool.run(fn, { method: 'get' }).catch(() => undefined);
    await pool.remove(name);
  }
}

/** The sum of a counter's values over every data point, the SDK's overflow one included. */
function total(points: readonly { readonly value: unknown }[]): number {
  return points.reduce((sum, point) => sum + (point.value as number), 0);
}

describe('otelMetrics with clients that come and go between collections', () => {
  let provider: MeterProvider;
  let reader: TestMetricReader;

  beforeEach(() => {
    ({ provider, reader } = testMeterProvider());
  });
  afterEach(async () => {
    await provider.shutdown();
  });

  it('keeps its attribute sets bounded while 10 000 clients come and go with no collection, and loses no measurement', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    const metrics = otelMetrics({ meterProvider: provider });
    pool.use(metrics);
    // Every client fails its one call: an attempt set and a circuit-transition set each.
    await churn(pool, 10_000, 'c', () => {
      throw new Error('down');
    });

    const entries = trackedEntries(metrics)!;
    // No client is live: at most max(64, live clients) new entries since the last sweep, over every map.
    expect(entries.attempts + entries.transitions).toBeLessThanOrEqual(64);

    // The sets were forgotten, not the measurements: the SDK keyed them by value (past its cardinality
    // limit, in its overflow series).
    const c = await collect(reader);
    expect(countWhere(c, METRIC_ATTEMPT_DURATION, {})).toBe(10_000);
    expect(total(points(c, METRIC_CIRCUIT_TRANSITIONS))).toBe(10_000);
    await pool.close();
  });

  it('reports a removed client\'s last measurements at the next collection, though sweeps forgot its sets since', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    const metrics = otelMetrics({ meterProvider: provider });
    pool.use(metrics);
    pool.add({ name: 'gone' }, { name: 'gone' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('gone');
    // 200 clients: three sweeps, the first of which forgets "gone".
    await churn(pool, 200, 'n');
    expect(trackedEntries(metrics)!.attempts).toBeLessThanOrEqual(64);

    const c = await collect(reader);
    const attributes = { [ATTR_CLIENT]: 'gone', [ATTR_METHOD]: 'get', [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'success' };
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, attributes).count).toBe(2);
    expect(new Set(points(c, METRIC_ATTEMPT_DURATION).map((p) => p.attributes[ATTR_CLIENT])).size).toBe(201);
    await pool.close();
  });

  it('reads the pools once per max(64, live clients) new clients between collections: amortised O(1) per client', () => {
    const metrics = otelMetrics({ meterProvider: provider });
    const pool = new StandInPool();
    pool.snapshots = Array.from({ length: 500 }, (_, i) => snapshot(`live${i}`));
    const members = vi.spyOn(pool, 'members');
    metrics.attach!(pool);
    for (let i = 0; i < 1_000; i++) pool.stateChanges.emit({ client: `gone${i}`, from: { kind: 'closed' }, to: { kind: 'open', until: 1_000, trips: 1 }, at: 0 });
    // At the 64th new client (500 live then, so the next after 500 more) and at the 564th.
    expect(members).toHaveBeenCalledTimes(2);
    expect(trackedEntries(metrics)!.transitions).toBeLessThanOrEqual(500);
  });

  it('forgets gone clients\' sets at a collection too, keeping the live ones\'', async () => {
    const metrics = otelMetrics({ meterProvider: provider });
    const pool = new StandInPool();
    pool.snapshots = [snapshot('live')];
    metrics.attach!(pool);
    for (const client of ['live', 'gone']) {
      pool.stateChanges.emit({ client, from: { kind: 'closed' }, to: { kind: 'open', until: 1_000, trips: 1 }, at: 0 });
      pool.rateLimits.emit({ scope: 'client', client, method: 'get', waitedMs: 5, rejected: false });
    }
    expect(trackedEntries(metrics)).toMatchObject({ gauges: 0, transitions: 2, rateLimits: 2 });
    await collect(reader);
    expect(trackedEntries(metrics)).toMatchObject({ gauges: 1, transitions: 1, rateLimits: 1 });
  });

  it('with delta temporality, as the docs advise for churning fleets, a removed client is exported once after its last measurement', async () => {
    const deltaReader = new TestMetricReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
    const deltaProvider = new MeterProvider({ readers: [deltaReader] });
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.use(otelMetrics({ meterProvider: deltaProvider }));
    await churn(pool, 100, 'c');
    const clientsIn = (c: Collected): number => new Set(points(c, METRIC_ATTEMPT_DURATION).map((p) => p.attributes[ATTR_CLIENT])).size;
    expect(clientsIn(await collect(deltaReader))).toBe(100);
    await churn(pool, 3, 'd');
    expect(clientsIn(await collect(deltaReader))).toBe(3);
    await pool.close();
    await deltaProvider.shutdown();
  });

  it('counts no entries for the no-op middleware made without an SDK', () => {
    expect(trackedEntries(otelMetrics({ meter: createNoopMeter() }))).toBeUndefined();
  });
});
