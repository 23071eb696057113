// Attack: <prefix>_shed_total agrees with calls_total{code="ERR_SHED"} for coalesced and quorum calls.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { find, parseExposition } from '../../prometheus/exposition.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

async function counts(registry: Registry): Promise<{ shed: number; callsShed: number }> {
  const s = parseExposition(await registry.metrics());
  const shed = find(s, 'middleware_shed_total').reduce((n, x) => n + x.value, 0);
  const callsShed = find(s, 'middleware_calls_total').filter((x) => x.labels['code'] === 'ERR_SHED').reduce((n, x) => n + x.value, 0);
  return { shed, callsShed };
}

describe('shed metrics', () => {
  it('three coalesced low callers shed together: shed_total and calls_total agree', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Backend>({ maxWait: 0 }).use(prometheusMetrics({ registry }));
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const calls = [0, 1, 2].map(() => pool.run(() => 'x', { priority: 'low', coalesce: 'k' }).catch((e: unknown) => e));
    const results = await Promise.all(calls);
    expect(results.every((r) => (r as { code?: string }).code === 'ERR_SHED')).toBe(true);
    gate.resolve();
    await held;
    const { shed, callsShed } = await counts(registry);
    expect(shed).toBe(callsShed);
    expect(shed).toBeGreaterThanOrEqual(1);
  });

  it('a shed low quorum counts once in shed_total, as in calls_total', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Backend>({ maxWait: 0 }).use(prometheusMetrics({ registry }));
    for (const id of ['a', 'b']) pool.add({ id }, { name: id, maxInFlight: 1 });
    const gate = deferred();
    const held = [pool.run(() => gate.promise), pool.run(() => gate.promise)];
    await expect(pool.quorum(() => 1, { of: 2, agree: 2, priority: 'low' })).rejects.toBeDefined();
    gate.resolve();
    await Promise.all(held);
    const { shed, callsShed } = await counts(registry);
    expect(shed).toBe(callsShed);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });
});
