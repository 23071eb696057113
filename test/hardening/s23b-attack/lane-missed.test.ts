import { describe, expect, it } from 'vitest';
import { ClientPool, type MemberSnapshot } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { StillClock } from './rig.js';

// Lane picks the lane does not serve (`Roster.laneMember` returns undefined and leaves the pick in
// `roster.missed`): a client with its own quota, a warming client, a custom breaker's probe. Each call must
// go where the full pick sends it, taking a client's token once (docs/call-pipeline.md: "every attempt in the
// lane goes where the full pick sends it and leaves the pool in the same state").
useUnhandledGuard({ time: 'real' });

function byName(pool: ClientPool<string>, name: string): MemberSnapshot {
  return pool.members().find((m) => m.name === name)!;
}

describe('lane misses', () => {
  it('a client with its own bucket (burst 3, no refill on a still clock): exactly 3 plain calls on it, one token each, the rest routed around', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 3_600_000, burst: 3 } });
    pool.add('b', { name: 'b' });
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await pool.run((c) => c));
    expect(seen.filter((c) => c === 'a')).toHaveLength(3);
    expect(byName(pool, 'a').tokens).toBe(0);
    expect(byName(pool, 'a').successes + byName(pool, 'b').successes).toBe(10);
    await pool.close();
  });

  it('the same calls with a method (the labelled lane) and with a timeout (the full pick): the same clients in the same order', async () => {
    const orders: string[][] = [];
    for (const options of [undefined, { method: 'm' }, { timeout: 1_000 }] as const) {
      const clock = new StillClock();
      const pool = new ClientPool<string>({ clock });
      pool.add('a', { name: 'a', limit: { rate: 1, per: 3_600_000, burst: 2 } });
      pool.add('b', { name: 'b' });
      pool.add('c', { name: 'c', limit: { rate: 1, per: 3_600_000, burst: 1 } });
      const seen: string[] = [];
      for (let i = 0; i < 9; i++) seen.push(await pool.run((c) => c, options));
      orders.push(seen);
      await pool.close();
    }
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
  });

  it('a warming client (slowStart) in the lane: calls still answered, nothing in flight, every call counted once', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, slowStart: { window: 10_000, minShare: 0.1 }, breaker: { maxFailures: 1, cooldown: 100 } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    await pool.run(() => {
      throw new Error('a fails');
    }).catch(() => undefined);
    clock.time += 200;
    let n = 0;
    for (let i = 0; i < 50; i++) {
      await pool.run((c) => c);
      n++;
    }
    const total = pool.members().reduce((s, m) => s + m.successes, 0);
    expect(total).toBe(n);
    expect(pool.members().reduce((s, m) => s + m.inFlight, 0)).toBe(0);
    await pool.close();
  });
});
