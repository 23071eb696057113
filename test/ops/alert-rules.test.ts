// The series shapes ops/prometheus-alerts.yml is written for, pinned on a real pool on a manual clock and
// scraped: the rules' unit tests (ops/prometheus-alerts.test.yml, run by `promtool test rules` in
// test/e2e/dashboard.test.ts) feed promtool series of these shapes, so a change here must change them too.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition, value } from '../prometheus/exposition.js';

const down = (): never => {
  throw new Error('down');
};

function downPool(): { pool: ClientPool<object>; registry: Registry; clock: ManualClock } {
  const clock = new ManualClock();
  const registry = new Registry();
  const pool = new ClientPool<object>({ clock, breaker: { maxFailures: 1, cooldown: 10_000 } }).use(prometheusMetrics({ registry, clock }));
  pool.add({}, { name: 'x' });
  return { pool, registry, clock };
}

describe('series read by ClientPoolCircuitFlapping', () => {
  it('a client that stays down opens from closed once, then reopens from half-open after every failed probe, never closing', async () => {
    const { pool, registry, clock } = downPool();
    // Down for 15 minutes with one call a second: a probe every 10 s cooldown.
    for (let s = 0; s < 900; s++) {
      await pool.run(down, { method: 'get' }).catch(() => undefined);
      clock.advance(1_000);
    }
    const scrape = parseExposition(await registry.metrics());
    expect(value(scrape, 'middleware_circuit_transitions_total', { client: 'x', from: 'closed', to: 'open' })).toBe(1);
    expect(find(scrape, 'middleware_circuit_transitions_total', { client: 'x', to: 'closed' })).toHaveLength(0);
    expect(value(scrape, 'middleware_circuit_transitions_total', { client: 'x', from: 'half-open', to: 'open' })).toBe(value(scrape, 'middleware_circuit_transitions_total', { client: 'x', from: 'open', to: 'half-open' }));
    expect(value(scrape, 'middleware_circuit_transitions_total', { client: 'x', from: 'half-open', to: 'open' })).toBeGreaterThan(5);
    await pool.close();
  });
});

describe('series read by ClientPoolCircuitOpen and ClientPoolAllCircuitsOpen', () => {
  it('a down client\'s circuit reads 1 (half-open), not 2, on a scrape that lands while its probe runs', async () => {
    const { pool, registry, clock } = downPool();
    await pool.run(down).catch(() => undefined);
    expect(value(parseExposition(await registry.metrics()), 'middleware_circuit_state', { client: 'x' })).toBe(2);
    clock.advance(10_000);
    // A down upstream that times out holds its probe for the whole timeout.
    const probe = deferred();
    const probing = pool.run(() => probe.promise).catch(() => undefined);
    expect(value(parseExposition(await registry.metrics()), 'middleware_circuit_state', { client: 'x' })).toBe(1);
    probe.reject(new Error('down'));
    await probing;
    expect(value(parseExposition(await registry.metrics()), 'middleware_circuit_state', { client: 'x' })).toBe(2);
    await pool.close();
  });
});
