import fc from 'fast-check';
import { Histogram, Registry, type Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Buckets, DEFAULT_BUCKETS } from '../../src/prometheus/buckets.js';
import { HistogramFamily, ScalarFamily } from '../../src/prometheus/family.js';

const labelNames = ['client', 'method'];

/** Our histogram family fed with `observations`, next to a prom-client Histogram fed the same. */
async function render(bounds: readonly number[], observations: readonly (readonly [string, number])[]): Promise<[string, string]> {
  const series = new Map<string, Buckets>();
  for (const [client, value] of observations) {
    let buckets = series.get(client);
    if (buckets === undefined) series.set(client, (buckets = new Buckets(bounds)));
    buckets.observe(value);
  }
  const ours = new Registry();
  const family = new HistogramFamily('h_seconds', 'help', labelNames, bounds);
  family.sources.add({ collect: (emit) => { for (const [client, buckets] of series) emit({ client, method: 'm' }, buckets); }, reset: () => {} });
  ours.registerMetric(family as unknown as Metric);

  const theirs = new Registry();
  const histogram = new Histogram({ name: 'h_seconds', help: 'help', labelNames, buckets: [...bounds], registers: [theirs] });
  for (const [client, value] of observations) histogram.labels(client, 'm').observe(value);
  return [await ours.metrics(), await theirs.metrics()];
}

const bounds = fc.uniqueArray(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 12 }).map((b) => Object.freeze([...b].sort((x, y) => x - y)));
const observations = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.double({ min: 0, max: 200, noNaN: true }), fc.constantFrom(0, 0.005, 0.1, 10))), { maxLength: 60 });

describe('histogram families', () => {
  it('render exactly as prom-client Histogram for any bounds and observations', async () => {
    await fc.assert(
      fc.asyncProperty(bounds, observations, async (b, o) => {
        const [ours, theirs] = await render(b, o);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it('put a value on a bound into that bound, as prom-client (le is inclusive)', async () => {
    const [ours, theirs] = await render(DEFAULT_BUCKETS, [['a', 0.005], ['a', 10], ['a', 10.000001]]);
    expect(ours).toBe(theirs);
    expect(ours).toContain('h_seconds_bucket{le="0.005",client="a",method="m"} 1');
    expect(ours).toContain('h_seconds_bucket{le="10",client="a",method="m"} 2');
    expect(ours).toContain('h_seconds_bucket{le="+Inf",client="a",method="m"} 3');
  });

  it('merge series with equal labels from several sources', async () => {
    const registry = new Registry();
    const family = new ScalarFamily('gauge', 'g', 'help', ['client'], 'max');
    family.sources.add({ collect: (emit) => { emit({ client: 'a' }, 1); emit({ client: 'b' }, 0); }, reset: () => {} });
    family.sources.add({ collect: (emit) => emit({ client: 'a' }, 2), reset: () => {} });
    registry.registerMetric(family as unknown as Metric);
    expect(await registry.metrics()).toBe('# HELP g help\n# TYPE g gauge\ng{client="a"} 2\ng{client="b"} 0\n');
  });
});
