import type { Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { expect } from 'vitest';

/** A pull reader for tests: `collect()` when the test wants to look, nothing on a timer. */
export class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A real SDK `MeterProvider` reading into a {@link TestMetricReader}. */
export function testMeterProvider(): { provider: MeterProvider; reader: TestMetricReader } {
  const reader = new TestMetricReader();
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}

/** One collection: every metric by name, with the scope that made it. */
export interface Collected {
  readonly metrics: ReadonlyMap<string, MetricData>;
  readonly scopes: ReadonlyMap<string, string>;
}

export async function collect(reader: MetricReader): Promise<Collected> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const metrics = new Map<string, MetricData>();
  const scopes = new Map<string, string>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      metrics.set(metric.descriptor.name, metric);
      scopes.set(metric.descriptor.name, scope.scope.name);
    }
  }
  return { metrics, scopes };
}

/** Every data point of a metric (none when it has not been recorded). */
export function points(collected: Collected, name: string): DataPoint<unknown>[] {
  return collected.metrics.get(name)?.dataPoints ?? [];
}

/** The one data point whose attributes are exactly `attributes`. */
export function pointWith(collected: Collected, name: string, attributes: Attributes): DataPoint<unknown> {
  const matching = points(collected, name).filter((p) => sameAttributes(p.attributes, attributes));
  expect(matching, `${name} ${JSON.stringify(attributes)} among ${JSON.stringify(points(collected, name).map((p) => p.attributes))}`).toHaveLength(1);
  return matching[0]!;
}

/** What kind of instrument made a metric, as its data says: a monotonic sum is a counter's. */
export function kindOf(metric: MetricData | undefined): 'histogram' | 'counter' | 'up-down-counter' | 'gauge' | undefined {
  if (metric === undefined) return undefined;
  if (metric.dataPointType === DataPointType.HISTOGRAM) return 'histogram';
  if (metric.dataPointType === DataPointType.SUM) return metric.isMonotonic ? 'counter' : 'up-down-counter';
  return metric.dataPointType === DataPointType.GAUGE ? 'gauge' : undefined;
}

/** A sum's or gauge's value at `attributes`. */
export function valueAt(collected: Collected, name: string, attributes: Attributes): number {
  return pointWith(collected, name, attributes).value as number;
}

/** A histogram's data point at `attributes`. */
export function histogramAt(collected: Collected, name: string, attributes: Attributes): Histogram {
  expect(collected.metrics.get(name)?.dataPointType).toBe(DataPointType.HISTOGRAM);
  return pointWith(collected, name, attributes).value as Histogram;
}

/** How many values a histogram holds across the data points whose attributes include `subset`. */
export function countWhere(collected: Collected, name: string, subset: Attributes): number {
  return points(collected, name)
    .filter((p) => Object.entries(subset).every(([key, value]) => p.attributes[key] === value))
    .reduce((sum, p) => sum + (p.value as Histogram).count, 0);
}

function sameAttributes(actual: Attributes, expected: Attributes): boolean {
  const keys = Object.keys(actual);
  return keys.length === Object.keys(expected).length && keys.every((key) => actual[key] === expected[key]);
}
