import { Counter, Histogram, register, Registry, type OpenMetricsContentType } from 'prom-client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { trackedEntries } from '../../src/prometheus/prometheus-metrics.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition, scrape, serveMetrics, value } from './exposition.js';
import { StandInPool } from './stand-in-pool.js';

interface Fake {
  readonly id: string;
}

/** A pool of the named clients with `middleware`, on a fake clock. */
function poolOf(names: readonly string[], middleware: ReturnType<typeof prometheusMetrics>, clock = new ManualClock()): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
  pool.use(middleware);
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

async function calls(pool: ClientPool<Fake>, n: number, method = 'get', fail = false): Promise<void> {
  for (let i = 0; i < n; i++) {
    await pool
      .run(() => {
        if (fail) throw new Error('down');
      }, { method })
      .catch(() => undefined);
  }
}

/** Every series of the scrape, as `name{labels} value` lines, for whole-output comparisons. */
async function lines(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The registry of the current `it.each` case (its `first` callback runs inside the case). */
let registryUnderTest = new Registry();

describe('registries', () => {
  afterAll(() => {
    // Nothing in this file passed prom-client's global registry: it must still be empty.
    expect(register.getMetricsAsArray()).toEqual([]);
  });

  it('keeps two pools on two registries apart, each scraped on its own endpoint', async () => {
    const [first, second] = [new Registry(), new Registry()];
    const one = poolOf(['a'], prometheusMetrics({ registry: first }));
    const two = poolOf(['a', 'b'], prometheusMetrics({ registry: second }));
    await calls(one, 3);
    await calls(two, 4, 'put');
    const endpoints = await Promise.all([serveMetrics(first), serveMetrics(second)]);
    try {
      const [s1, s2] = await Promise.all(endpoints.map((endpoint) => scrape(endpoint.url)));
      expect(find(s1!, 'middleware_requests_total')).toEqual([{ name: 'middleware_requests_total', labels: { client: 'a', method: 'get' }, value: 3 }]);
      expect(find(s2!, 'middleware_requests_total').map((s) => [s.labels['client'], s.labels['method'], s.value])).toEqual([
        ['a', 'put', 2],
        ['b', 'put', 2],
      ]);
      expect(find(s1!, 'middleware_in_flight')).toHaveLength(1);
      expect(find(s2!, 'middleware_in_flight')).toHaveLength(2);
    } finally {
      await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    }
  });

  it('lets two adapters share one registry, their pools told apart by constant labels', async () => {
    const registry = new Registry();
    const x = poolOf(['a'], prometheusMetrics({ registry, labels: { pool: 'x' } }));
    const y = poolOf(['a'], prometheusMetrics({ registry, labels: { pool: 'y' } }));
    await calls(x, 2);
    await calls(y, 3);
    await calls(y, 1, 'get', true);

    const text = await registry.metrics();
    const s = parseExposition(text);
    expect(text.match(/^# TYPE middleware_requests_total counter$/gm)).toHaveLength(1);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get', pool: 'x' })).toBe(2);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get', pool: 'y' })).toBe(4);
    expect(value(s, 'middleware_circuit_state', { client: 'a', pool: 'x' })).toBe(0);
    expect(value(s, 'middleware_circuit_state', { client: 'a', pool: 'y' })).toBe(2);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'a', from: 'closed', to: 'open', pool: 'y' })).toBe(1);
    // Constant labels come after the metric's own, as with labelNames: ['client', 'method', 'pool'].
    expect(text).toContain('middleware_requests_total{client="a",method="get",pool="x"} 2');
  });

  it('merges the series of one adapter used on two pools with a client of the same name: counts add up, circuit_state shows the worst', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const one = poolOf(['a'], metrics);
    const two = poolOf(['a'], metrics);
    await calls(one, 2);
    await calls(two, 1, 'get', true);
    const gate = deferred();
    const pending = one.run(() => gate.promise);

    const s = parseExposition(await registry.metrics());
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(3);
    expect(value(s, 'middleware_request_errors_total', { client: 'a', method: 'get' })).toBe(1);
    expect(value(s, 'middleware_request_duration_seconds_count', { client: 'a', method: 'get' })).toBe(3);
    expect(value(s, 'middleware_circuit_state', { client: 'a' })).toBe(2);
    expect(value(s, 'middleware_in_flight', { client: 'a' })).toBe(1);
    gate.resolve();
    await pending;
  });

  it('may be used on several pools at once, reading every one of them', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const one = poolOf(['a', 'b'], metrics);
    const two = poolOf(['c'], metrics);
    await calls(two, 1, 'get', true);
    await calls(one, 2);
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_circuit_state').map((sample) => [sample.labels['client'], sample.value])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 2],
    ]);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'c', from: 'closed', to: 'open' })).toBe(1);
  });

  it.each([
    ['another kind of metric holds a name', () => new Counter({ name: 'middleware_requests_total', help: 'mine', registers: [registryUnderTest] }), {}, 'prefix'],
    ['the shared metrics have other constant labels', () => prometheusMetrics({ registry: registryUnderTest, labels: { pool: 'x' } }), {}, 'labels'],
    ['the shared histogram has other buckets', () => prometheusMetrics({ registry: registryUnderTest }), { buckets: [0.1, 1] }, 'buckets'],
    ['the shared wait histogram has other buckets', () => prometheusMetrics({ registry: registryUnderTest }), { waitBuckets: [1, 2] }, 'waitBuckets'],
  ] as const)('refuses to share when %s, naming the option and leaving the registry as it was', (_, first, options, option) => {
    registryUnderTest = new Registry();
    first();
    const before = registryUnderTest.getMetricsAsArray();
    expect(() => prometheusMetrics({ registry: registryUnderTest, ...options })).toThrow(
      expect.objectContaining({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', option }) as Error,
    );
    expect(() => prometheusMetrics({ registry: registryUnderTest, ...options })).toThrow(InvalidOptionError);
    expect(registryUnderTest.getMetricsAsArray()).toEqual(before);
  });

  it('takes another prefix on the same registry without conflict', async () => {
    const registry = new Registry();
    poolOf(['a'], prometheusMetrics({ registry }));
    const other = poolOf(['a'], prometheusMetrics({ registry, prefix: 'rpc' }));
    await calls(other, 1);
    const s = parseExposition(await registry.metrics());
    expect(value(s, 'rpc_requests_total', { client: 'a', method: 'get' })).toBe(1);
    expect(find(s, 'middleware_requests_total')).toEqual([]);
  });

  it('makes its own registry when given none, never the global one', async () => {
    const metrics = prometheusMetrics();
    expect(metrics.registry).toBeInstanceOf(Registry);
    expect(metrics.registry).not.toBe(register);
    await calls(poolOf(['a'], metrics), 1);
    expect(value(parseExposition(await metrics.registry.metrics()), 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(1);
    expect(register.getMetricsAsArray()).toEqual([]);
  });

  it('unregister() takes its series off, and each metric once no adapter feeds it', async () => {
    const registry = new Registry();
    const x = prometheusMetrics({ registry, labels: { pool: 'x' } });
    const y = prometheusMetrics({ registry, labels: { pool: 'y' } });
    await calls(poolOf(['a'], x), 1);
    await calls(poolOf(['a'], y), 1);

    x.unregister();
    expect((await lines(registry)).filter((line) => line.startsWith('middleware_requests_total'))).toEqual([
      'middleware_requests_total{client="a",method="get",pool="y"} 1',
    ]);
    y.unregister();
    expect(registry.getMetricsAsArray()).toEqual([]);
    // The names are free again, for other buckets even.
    expect(() => prometheusMetrics({ registry, buckets: [1] })).not.toThrow();
  });

  it('unregister() retires the adapter: a pool it stays in adds nothing to it, and it attaches no other pool', async () => {
    const registry = new Registry();
    const retired = prometheusMetrics({ registry, labels: { pool: 'rpc' } });
    const pool = new ClientPool<{ name: string }>({ breaker: false }).use(retired);
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    // The documented way to hand the labels to a new adapter; a pool cannot drop middleware, so the old one stays in it.
    retired.unregister();
    expect(trackedEntries(retired)).toEqual({ clients: 0, transitions: 0, rateLimits: 0, methods: 0 });
    pool.use(prometheusMetrics({ registry, labels: { pool: 'rpc' } }));
    for (let i = 0; i < 200; i++) {
      const name = `c${i}`;
      pool.add({ name }, { name });
      await pool.run(() => 'x', { method: `m${i}` });
      await pool.remove(name);
    }
    const other = new ClientPool<{ name: string }>({ breaker: false }).use(retired);
    other.add({ name: 'b' }, { name: 'b' });
    await other.run(() => 'x', { method: 'get' });
    // Nothing reads the retired adapter's counts any more: it keeps none, and listens to no new pool.
    expect(trackedEntries(retired)).toEqual({ clients: 0, transitions: 0, rateLimits: 0, methods: 0 });
    const stand = new StandInPool();
    const subscribe = vi.spyOn(stand, 'onStateChange');
    retired.attach(stand);
    expect(subscribe).not.toHaveBeenCalled();
    expect(value(parseExposition(await registry.metrics()), 'middleware_calls_total', { method: 'm0', code: 'OK', pool: 'rpc' })).toBe(1);
    retired.unregister();
    await Promise.all([pool.close(), other.close()]);
  });

  it('zeroes its counts on registry.resetMetrics(), keeping the series', async () => {
    const registry = new Registry();
    const pool = poolOf(['a'], prometheusMetrics({ registry }));
    await calls(pool, 2, 'get', true);
    registry.resetMetrics();
    const s = parseExposition(await registry.metrics());
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(0);
    expect(value(s, 'middleware_request_errors_total', { client: 'a', method: 'get' })).toBe(0);
    expect(value(s, 'middleware_request_duration_seconds_count', { client: 'a', method: 'get' })).toBe(0);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'a', from: 'closed', to: 'open' })).toBe(0);
    // Gauges are read live, not reset.
    expect(value(s, 'middleware_circuit_state', { client: 'a' })).toBe(2);
  });

  it('renders OpenMetrics exactly as prom-client does', async () => {
    const registry = openMetricsRegistry();
    const clock = new ManualClock();
    const pool = poolOf(['a'], prometheusMetrics({ registry }), clock);
    await pool.run(() => clock.advance(20), { method: 'get' });

    const reference = openMetricsRegistry();
    const s = parseExposition(await registry.metrics());
    const labelNames = ['client', 'method'];
    new Counter({ name: 'middleware_requests_total', help: s.help.get('middleware_requests')!, labelNames, registers: [reference] }).labels('a', 'get').inc();
    new Histogram({ name: 'middleware_request_duration_seconds', help: s.help.get('middleware_request_duration_seconds')!, labelNames, registers: [reference] })
      .labels('a', 'get')
      .observe(0.02);
    // Whole renders: prom-client renames counters for OpenMetrics only inside metrics().
    const ofBoth = (text: string): string[] =>
      text.split('\n').filter((line) => /^(# (HELP|TYPE) )?middleware_(requests|request_duration_seconds)[_ {]/.test(line));
    const ours = ofBoth(await registry.metrics());
    expect(ours).toEqual(ofBoth(await reference.metrics()));
    expect(ours).toContain('# TYPE middleware_requests counter');
    expect(ours).toContain('middleware_requests_total{client="a",method="get"} 1');
    expect(ours).toHaveLength(2 + 1 + 2 + 12 + 2);
  });

  it('gives getMetricsAsJSON() the shape prom-client gives', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const pool = poolOf(['a'], prometheusMetrics({ registry }), clock);
    await pool.run(() => clock.advance(20), { method: 'get' });
    const reference = new Registry();
    const labelNames = ['client', 'method'];
    new Histogram({ name: 'middleware_request_duration_seconds', help: 'h', labelNames, registers: [reference] }).labels('a', 'get').observe(0.02);
    const ours = (await registry.getMetricsAsJSON()).find((m) => m.name === 'middleware_request_duration_seconds')!;
    const theirs = (await reference.getMetricsAsJSON())[0]!;
    const strip = (values: readonly object[]): object[] => values.map((v) => Object.fromEntries(Object.entries(v).filter(([k, x]) => k !== 'exemplar' && x !== undefined)));
    expect(strip(ours.values)).toEqual(strip(theirs.values));
  });
});

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}
