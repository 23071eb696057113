import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { ScalarFamily } from '../../src/prometheus/family.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { registerFamilies } from '../../src/prometheus/shared-families.js';
import { parseExposition, value } from './exposition.js';

interface Fake {
  readonly id: string;
}

type Adapter = ReturnType<typeof prometheusMetrics>;

/** A pool of client `a` with `middleware`, after `n` calls of method `get`. */
async function poolCalled(middleware: Adapter, n: number): Promise<ClientPool<Fake>> {
  const pool = new ClientPool<Fake>().use(middleware);
  pool.add({ id: 'a' }, { name: 'a' });
  for (let i = 0; i < n; i++) await pool.run(() => undefined, { method: 'get' });
  return pool;
}

/** Everything a scrape shows, and what the registry holds, to compare before and after a refusal. */
async function stateOf(registry: Registry): Promise<{ text: string; names: string[] }> {
  return { text: await registry.metrics(), names: registry.getMetricsAsArray().map((metric) => metric.name) };
}

/** Series lines of the scrape, which Prometheus requires to be unique. */
async function seriesLines(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

const refusedForLabels = expect.objectContaining({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', option: 'labels' }) as Error;

describe('adapters sharing a registry', () => {
  it.each([
    ['both have no constant labels', {}, /one with no constant labels already feeds middleware_requests_total/],
    ['both have labels { pool: "x" }', { pool: 'x' }, /one with labels pool="x" already feeds middleware_requests_total/],
    ['both have the same two labels', { pool: 'x', region: 'eu' }, /one with labels pool="x", region="eu" already feeds/],
  ] as const)('refuses a second adapter whose constant label values equal the first one\'s (%s), leaving the registry as it was', async (_, labels, message) => {
    const registry = new Registry();
    const first = prometheusMetrics({ registry, labels });
    const pool = await poolCalled(first, 2);
    const before = await stateOf(registry);

    expect(() => prometheusMetrics({ registry, labels: { ...labels } })).toThrow(refusedForLabels);
    expect(() => prometheusMetrics({ registry, labels: { ...labels } })).toThrow(InvalidOptionError);
    expect(() => prometheusMetrics({ registry, labels: { ...labels } })).toThrow(message);
    expect(() => prometheusMetrics({ registry, labels: { ...labels } })).toThrow(/give each pool its own value, e\.g\. labels: \{ pool: 'a' \}/);

    expect(await stateOf(registry)).toEqual(before);
    // The first adapter still counts alone.
    await pool.run(() => undefined, { method: 'get' });
    expect(value(parseExposition(await registry.metrics()), 'middleware_requests_total', { client: 'a', method: 'get', ...labels })).toBe(3);
  });

  it('lets adapters with different constant label values share the families, every series line unique', async () => {
    const registry = new Registry();
    await poolCalled(prometheusMetrics({ registry, labels: { pool: 'x' } }), 1);
    await poolCalled(prometheusMetrics({ registry, labels: { pool: 'y' } }), 2);
    await poolCalled(prometheusMetrics({ registry, labels: { pool: 'z' } }), 3);

    const lines = await seriesLines(registry);
    expect(new Set(lines).size).toBe(lines.length);
    const s = parseExposition(await registry.metrics());
    expect(['x', 'y', 'z'].map((pool) => value(s, 'middleware_calls_total', { method: 'get', code: 'OK', pool }))).toEqual([1, 2, 3]);
    expect(['x', 'y', 'z'].map((pool) => value(s, 'middleware_circuit_state', { client: 'a', pool }))).toEqual([0, 0, 0]);
  });

  it('takes equal constant label values on another prefix or another registry', () => {
    const registry = new Registry();
    prometheusMetrics({ registry, labels: { pool: 'x' } });
    expect(() => prometheusMetrics({ registry, prefix: 'rpc', labels: { pool: 'x' } })).not.toThrow();
    expect(() => prometheusMetrics({ registry: new Registry(), labels: { pool: 'x' } })).not.toThrow();
  });

  it('frees an adapter\'s constant label values once it unregister()s, for a new adapter that counts from zero', async () => {
    const registry = new Registry();
    const x = prometheusMetrics({ registry, labels: { pool: 'x' } });
    await poolCalled(x, 2);
    await poolCalled(prometheusMetrics({ registry, labels: { pool: 'y' } }), 1);
    x.unregister();

    const again = prometheusMetrics({ registry, labels: { pool: 'x' } });
    await poolCalled(again, 1);
    const s = parseExposition(await registry.metrics());
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get', pool: 'x' })).toBe(1);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get', pool: 'y' })).toBe(1);
    // Taken again: refused again.
    expect(() => prometheusMetrics({ registry, labels: { pool: 'x' } })).toThrow(refusedForLabels);
  });

  it('frees the values of the last adapter too, the registry then empty', () => {
    const registry = new Registry();
    prometheusMetrics({ registry }).unregister();
    expect(registry.getMetricsAsArray()).toEqual([]);
    expect(() => prometheusMetrics({ registry })).not.toThrow();
  });

  it('refuses equal values across two copies of clientpool (as the ESM and CommonJS builds are), and takes different ones', async () => {
    const registry = new Registry();
    await poolCalled(prometheusMetrics({ registry, labels: { pool: 'x' } }), 1);
    vi.resetModules();
    // A second load of the modules: other classes, the same Symbol.for brand.
    const other = await import('../../src/prometheus/index.js');
    expect(other.prometheusMetrics).not.toBe(prometheusMetrics);
    const before = await stateOf(registry);

    expect(() => other.prometheusMetrics({ registry, labels: { pool: 'x' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'labels', message: expect.stringMatching(/one with labels pool="x" already feeds/) as string }),
    );
    expect(await stateOf(registry)).toEqual(before);
    const y = other.prometheusMetrics({ registry, labels: { pool: 'y' } });
    // And the other way round: this copy refuses the values the other copy fed.
    expect(() => prometheusMetrics({ registry, labels: { pool: 'y' } })).toThrow(refusedForLabels);
    y.unregister();
    expect(() => prometheusMetrics({ registry, labels: { pool: 'y' } })).not.toThrow();
  });

  it('refuses metrics of a clientpool copy that speaks another version of the sharing protocol, naming the prefix', () => {
    const registry = new Registry();
    const old = new ScalarFamily('counter', 'middleware_requests_total', 'from an older copy', ['client', 'method'], 'sum');
    Object.defineProperty(old, Symbol.for('clientpool.prometheus.family'), { value: 1 });
    registry.registerMetric(old as never);

    expect(() => prometheusMetrics({ registry })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'prefix', message: expect.stringMatching(/another version of clientpool/) as string }),
    );
    expect(registry.getMetricsAsArray()).toEqual([old]);
  });
});

describe('registerFamilies', () => {
  const counter = (): { total: ScalarFamily } => ({ total: new ScalarFamily('counter', 'bucket_total', 'h', ['key'], 'sum') });
  const source = { collect: (): void => undefined, reset: (): void => undefined };

  it('holds the constant labels claimed while the source added next feeds the family, and frees them with it', () => {
    const registry = new Registry();
    const { total } = registerFamilies(registry, counter(), { prefix: 'p', labels: { pool: 'x' }, bucketOptions: {} });
    expect([...total.sources.constantLabels()]).toEqual([]);
    total.sources.add(source);
    expect([...total.sources.constantLabels()]).toEqual([{ pool: 'x' }]);
    expect(() => registerFamilies(registry, counter(), { prefix: 'p', labels: { pool: 'x' }, bucketOptions: {} })).toThrow(refusedForLabels);
    total.sources.delete(source);
    expect([...total.sources.constantLabels()]).toEqual([]);
    expect(registerFamilies(registry, counter(), { prefix: 'p', labels: { pool: 'x' }, bucketOptions: {} }).total).toBe(total);
  });

  it('lets an export whose equal series are meant to add up (mergesEqualLabels) join one with the same values', () => {
    const registry = new Registry();
    const { total } = registerFamilies(registry, counter(), { prefix: 'p', labels: {}, bucketOptions: {}, mergesEqualLabels: true });
    total.sources.add(source);
    expect(registerFamilies(registry, counter(), { prefix: 'p', labels: {}, bucketOptions: {}, mergesEqualLabels: true }).total).toBe(total);
  });
});
