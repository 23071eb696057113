import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from '../prometheus/exposition.js';

// Who may feed what: pool.use()'s shared-hook refusal (src/middleware/middleware.ts), and adapters
// sharing a registry (src/prometheus/shared-families.ts), with objects from two copies of the package (the
// CJS and the ESM build a user may mix): a second module graph stands in for the other build.

interface Fake {
  readonly name: string;
}

// Two more copies of the package: fresh module graphs, with class identities of their own.
vi.resetModules();
const cjs = await import('../../src/index.js');
const cjsPrometheus = await import('../../src/prometheus/index.js');
vi.resetModules();
const esmPrometheus = await import('../../src/prometheus/index.js');

describe('adapters and middleware identity, across copies of the package', () => {
  it("labels a failed call with its error's code when the pool and the adapter come from two copies of the package", async () => {
    const registry = new Registry();
    const pool = new cjs.ClientPool<Fake>({ breaker: false });
    pool.use(esmPrometheus.prometheusMetrics({ registry }));
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => Promise.reject(new Error('down')), { method: 'get' }).catch(() => undefined);
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'ERR_CLIENT_CALL' }).map((sample) => sample.value)).toEqual([1]);
    await pool.close();
  });

  it('shares one registry between a CJS and an ESM adapter with other labels, and refuses equal ones', () => {
    const registry = new Registry();
    esmPrometheus.prometheusMetrics({ registry, labels: { pool: 'a' } });
    expect(() => cjsPrometheus.prometheusMetrics({ registry, labels: { pool: 'b' } })).not.toThrow();
    expect(() => cjsPrometheus.prometheusMetrics({ registry, labels: { pool: 'a' } })).toThrow(/labels/);
  });

  it("refuses labels { pool: '' } next to an adapter without labels: Prometheus reads an empty label as no label", () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    expect(() => prometheusMetrics({ registry, labels: { pool: '' } })).toThrow(InvalidOptionError);
  });

  it('accepts the labels of an unregistered adapter for a new one, and leaves the registry empty after both unregister', () => {
    const registry = new Registry();
    prometheusMetrics({ registry, labels: { pool: 'a' } }).unregister();
    const again = prometheusMetrics({ registry, labels: { pool: 'a' } });
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(0);
    again.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it("refuses an adapter's hook reused by another middleware of the pool, and a middleware from the other build twice", () => {
    const pool = new ClientPool<Fake>({ breaker: false });
    const hook = (): void => {};
    pool.use({ name: 'one', onCallEnd: hook });
    expect(() => pool.use({ name: 'two', onCallEnd: hook })).toThrow(InvalidOptionError);

    const mixed = new cjs.ClientPool<Fake>({ breaker: false });
    const adapter = esmPrometheus.prometheusMetrics();
    mixed.use(adapter);
    expect(() => mixed.use(adapter)).toThrow(/once per pool/);
  });

  it("does not count twice through the adapter's own onCallEnd taken unbound into another middleware", async () => {
    const registry = new Registry();
    const adapter = prometheusMetrics({ registry });
    const pool = new ClientPool<Fake>({ breaker: false });
    pool.use(adapter);
    // A class method: not refused, but called with the wrong `this` it cannot reach the adapter's counts.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the attack: the method taken off its adapter
    pool.use({ name: 'copy', onCallEnd: adapter.onCallEnd });
    pool.add({ name: 'a' }, { name: 'a' });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await pool.run(() => 'x', { method: 'get' });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'OK' }).map((sample) => sample.value)).toEqual([1]);
    expect(warnings.some((message) => message.includes('"copy" onCallEnd'))).toBe(true);
    await pool.close();
  });
});
