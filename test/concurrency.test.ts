import { describe, expect, it } from 'vitest';
import { ClientPool, seededRandom } from '../src/index.js';
import { deferred, ManualClock } from './helpers/manual-clock.js';

describe('heavy concurrency', () => {
  it('100 000 concurrent calls over 10 clients: counts add up, round robin stays fair', async () => {
    const pool = new ClientPool<{ id: number }>({ breaker: false });
    for (let id = 0; id < 10; id++) pool.add({ id }, { name: `c${id}` });
    const gate = deferred();
    const random = seededRandom(7);
    const calls = Array.from({ length: 100_000 }, () =>
      pool.run(async (client) => {
        await gate.promise;
        if (random() < 0.3) throw new Error('flaky');
        return client.id;
      }),
    );
    const inFlight = pool.members().map((m) => m.inFlight);
    expect(Math.max(...inFlight) - Math.min(...inFlight)).toBeLessThanOrEqual(1);
    expect(inFlight.reduce((s, n) => s + n, 0)).toBe(100_000);
    gate.resolve();
    const settled = await Promise.allSettled(calls);
    const ok = settled.filter((s) => s.status === 'fulfilled').length;
    const members = pool.members();
    expect(members.reduce((s, m) => s + m.successes, 0)).toBe(ok);
    expect(members.reduce((s, m) => s + m.failures, 0)).toBe(100_000 - ok);
    expect(members.every((m) => m.inFlight === 0)).toBe(true);
    for (const m of members) expect(m.successes + m.failures).toBe(10_000);
  });

  it('half-open never admits more than its permits under a burst', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<{ id: number }>({ clock, breaker: { maxFailures: 1, cooldown: 100, halfOpenProbes: 3 } });
    pool.add({ id: 0 }, { name: 'only' });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    clock.advance(100);
    const gate = deferred();
    let admitted = 0;
    const burst = Array.from({ length: 10_000 }, () =>
      pool.run(async () => {
        admitted++;
        await gate.promise;
      }),
    );
    expect(admitted).toBe(3);
    gate.resolve();
    const results = await Promise.allSettled(burst);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(pool.members()[0]!.state.kind).toBe('closed');
  });
});
