// The method label of a call given through a getter (read once into the copy) labels its Prometheus
// series and its OpenTelemetry-style call-end record with one label, the one the call ran with.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool, type Call, type RunOptions } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'real' });

/** Method labels found in the registry's exposition. */
async function methodLabels(registry: Registry): Promise<Set<string>> {
  const text = await registry.metrics();
  return new Set([...text.matchAll(/method="([^"]*)"/g)].map((match) => match[1]!));
}

describe('Prometheus method labels through the copy', () => {
  it('a method given through a getter labels the series', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Fake>().use(prometheusMetrics({ registry }));
    pool.add({ id: 'a' }, { name: 'a' });
    const options = Object.defineProperty({}, 'method', { enumerable: true, get: () => 'get_slot' }) as RunOptions<Fake>;
    await pool.run(() => 1, options);
    expect([...(await methodLabels(registry))]).toEqual(['get_slot']);
    await pool.close();
  });

  it('a method getter that answers differently per read: every series carries the label the call ran with (call.options.method)', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Fake>().use(prometheusMetrics({ registry }));
    pool.add({ id: 'a' }, { name: 'a' });
    let n = 0;
    const options = Object.defineProperty({}, 'method', { enumerable: true, get: () => `m${++n}` }) as RunOptions<Fake>;
    const ran = await pool.run((_client, call: Call<Fake>) => call.options.method, options);
    expect([...(await methodLabels(registry))]).toEqual([ran]);
    await pool.close();
  });
});
