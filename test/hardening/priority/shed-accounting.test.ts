// Attack: what counts a shed call (docs/priority-shedding.md "When a call is shed", "Seeing it").
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { find, parseExposition } from '../../prometheus/exposition.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('a shed call is no failure of any client', () => {
  it('takes nothing from the retry budget and is not retried, even with retries on', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0, retry: { attempts: 3 }, retryBudget: { ratio: 0.1, reserve: 2 } });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    pool.add({ id: 'b' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = [pool.run(() => gate.promise), pool.run(() => gate.promise)];
    const before = pool.retryBudget!;
    for (let i = 0; i < 20; i++) await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    expect(pool.retryBudget!.refused).toBe(before.refused);
    expect(pool.retryBudget!.balance).toBeGreaterThanOrEqual(before.balance);
    gate.resolve();
    await Promise.all(held);
    expect(pool.members().map((m) => [m.state.kind, m.inFlight, m.failures, m.refused])).toEqual([['closed', 0, 0, 0], ['closed', 0, 0, 0]]);
  });

  it('<prefix>_shed_total counts calls shed for a pool-wide token too; calls_total has them under ERR_SHED', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const pool = new ClientPool<Backend>({ clock, limit: { rate: 1, burst: 1 }, reserve: 0, maxWait: 0 }).use(prometheusMetrics({ registry }));
    pool.add({ id: 'a' });
    await pool.run(() => 'first', { method: 'm' });
    for (let i = 0; i < 4; i++) await pool.run(() => 'x', { method: 'm', priority: 'low' }).catch(() => undefined);
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_shed_total').map((x) => [x.labels['method'], x.value])).toEqual([['m', 4]]);
    const shedCalls = find(s, 'middleware_calls_total').filter((x) => x.labels['code'] === 'ERR_SHED');
    expect(shedCalls.reduce((n, x) => n + x.value, 0)).toBe(4);
  });

  it('a shed call runs no attempt: onAttempt-style middleware sees no client for it', async () => {
    const seen: (string | undefined)[] = [];
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.use({
      name: 'spy',
      onCallEnd: (info: { client?: string }) => {
        seen.push(info.client);
      },
    } as never);
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    await pool.run(() => 'low', { priority: 'low' }).catch(() => undefined);
    gate.resolve();
    await held;
    expect(seen.length).toBe(2);
  });
});
