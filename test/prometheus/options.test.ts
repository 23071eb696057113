import { register, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { prometheusMetrics, type PrometheusMetricsOptions } from '../../src/prometheus/index.js';
import { snapshot, StandInPool } from './stand-in-pool.js';

describe('prometheusMetrics options', () => {
  it.each<[string, unknown, string]>([
    ['options', 'middleware', 'options'],
    ['registry', { registry: {} }, 'registry'],
    ['prefix with a dash', { prefix: 'my-app' }, 'prefix'],
    ['empty prefix', { prefix: '' }, 'prefix'],
    ['fractional maxMethods', { maxMethods: 1.5 }, 'maxMethods'],
    ['negative maxMethods', { maxMethods: -1 }, 'maxMethods'],
    ['infinite maxMethods', { maxMethods: Infinity }, 'maxMethods'],
    ['empty buckets', { buckets: [] }, 'buckets'],
    ['unsorted buckets', { buckets: [1, 0.5] }, 'buckets'],
    ['infinite bucket', { buckets: [1, Infinity] }, 'buckets'],
    ['NaN wait bucket', { waitBuckets: [NaN] }, 'waitBuckets'],
    ['label name', { labels: { 'pool-name': 'x' } }, 'labels'],
    ['reserved label', { labels: { method: 'x' } }, 'labels'],
    ['double-underscore label', { labels: { __name: 'x' } }, 'labels'],
    ['label value', { labels: { pool: 1 } }, 'labels.pool'],
    ['clock', { clock: () => 0 }, 'clock'],
    ['removedClients', { removedClients: 'forget' }, 'removedClients'],
    ['removedClients of another type', { removedClients: false }, 'removedClients'],
    ['constant label named code', { labels: { code: 'x' } }, 'labels'],
    ['NaN removedClientsRetention', { removedClientsRetention: NaN }, 'removedClientsRetention'],
    ['negative removedClientsRetention', { removedClientsRetention: -1 }, 'removedClientsRetention'],
    ['removedClientsRetention past 2^31-1 ms', { removedClientsRetention: 2 ** 31 }, 'removedClientsRetention'],
    ['fractional removedClientsRetention', { removedClientsRetention: 1.5 }, 'removedClientsRetention'],
    ['infinite removedClientsRetention', { removedClientsRetention: Infinity }, 'removedClientsRetention'],
    ['removedClientsRetention as a string', { removedClientsRetention: '300000' }, 'removedClientsRetention'],
  ])('rejects a bad %s, naming the option and the value', (_, options, option) => {
    const registry = new Registry();
    const withRegistry = typeof options === 'object' && options !== null && !('registry' in options) ? { registry, ...options } : options;
    let thrown: unknown;
    try {
      prometheusMetrics(withRegistry as PrometheusMetricsOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION', option });
    expect((thrown as Error).message).toMatch(new RegExp(`^${option.replace('.', '\\.')} must be .*, got `));
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  const trap = new Error('trap');
  const throwing = <T extends object>(target: T): T => new Proxy(target, { get: () => { throw trap; } });
  it.each<[string, () => unknown, string]>([
    ['the options object', () => throwing({}), 'options'],
    ['buckets', () => ({ buckets: throwing([0.1, 1]) }), 'buckets'],
    ['waitBuckets', () => ({ waitBuckets: throwing([0.1, 1]) }), 'waitBuckets'],
    ['labels', () => ({ labels: new Proxy({ pool: 'x' }, { ownKeys: () => { throw trap; } }) }), 'labels'],
    ['registry', () => ({ registry: throwing(new Registry()) }), 'registry'],
    ['clock', () => ({ clock: throwing({ now: () => 0 }) }), 'clock'],
    ['the options object at removedClientsRetention', () => ({ get removedClientsRetention(): number { throw trap; } }), 'options'],
  ])('refuses %s whose reads throw with InvalidOptionError naming it, the throw as its cause', (_, options, option) => {
    let thrown: unknown;
    try {
      prometheusMetrics(options() as PrometheusMetricsOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect(thrown).toMatchObject({ option, cause: trap });
  });

  it('reads each option once: a getter that turns bad after its first read is used as first read', () => {
    let reads = 0;
    const options = { get prefix(): string { return reads++ === 0 ? 'once' : 'bad-prefix'; } };
    const metrics = prometheusMetrics(options);
    expect(reads).toBe(1);
    expect(metrics.registry.getSingleMetric('once_requests_total')).toBeDefined();
  });

  it('refuses a misspelt removedClients key, naming it and listing the known ones', () => {
    const make = (): unknown => prometheusMetrics({ registry: new Registry(), removedClient: 'drop' } as PrometheusMetricsOptions);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(/^options\.removedClient must be one of the known options \(.*removedClients.*\)/);
  });

  it.each(['drop', 'keep'] as const)('accepts removedClients: %s', (removedClients) => {
    expect(() => prometheusMetrics({ registry: new Registry(), removedClients })).not.toThrow();
  });

  it.each([0, 1, 2 ** 31 - 1])('accepts removedClientsRetention: %d ms', (removedClientsRetention) => {
    expect(() => prometheusMetrics({ registry: new Registry(), removedClientsRetention })).not.toThrow();
  });

  it('accepts the global registry when it is passed explicitly', () => {
    const metrics = prometheusMetrics({ registry: register, prefix: 'explicit_global' });
    try {
      expect(register.getSingleMetric('explicit_global_requests_total')).toBeDefined();
    } finally {
      metrics.unregister();
    }
    expect(register.getMetricsAsArray()).toEqual([]);
  });

  it('sorts constant labels by name so that every adapter orders them alike', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, labels: { zone: 'eu', app: 'api' } });
    const pool = new StandInPool();
    pool.snapshots = [snapshot('a')];
    metrics.attach(pool);
    expect(await registry.metrics()).toContain('middleware_in_flight{client="a",app="api",zone="eu"} 0');
  });
});
